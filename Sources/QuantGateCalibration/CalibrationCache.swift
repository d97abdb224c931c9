import Foundation
import QuantGateModel

/// What a statistics file at the requested path means for a request.
public enum CacheStatus: Equatable, Sendable, CustomStringConvertible {
    /// No file there.
    case absent
    /// A verified file computed from the same inputs: reuse it.
    case hit
    /// A verified file computed from other inputs: recompute.
    case stale(reason: String)
    /// A file that is not a verified statistics file (foreign, truncated, altered): rebuild.
    case invalid(reason: String)

    public var description: String {
        switch self {
        case .absent: "absent"
        case .hit: "hit"
        case .stale(let reason): "miss: \(reason)"
        case .invalid(let reason): "invalid, rebuilding: \(reason)"
        }
    }
}

/// The calibration cache: a statistics file reused when its key matches the request and
/// recomputed otherwise. `quantize` and `calibrate` both go through here.
public enum CalibrationCache {
    /// Checks the file at `path` against `key`.
    public static func status(at path: String, key: CalibrationKey, configuration: LlamaConfiguration) -> CacheStatus {
        check(at: path, key: key, configuration: configuration).status
    }

    /// The status, and on a hit the verified file (verifying reads the whole file, so it is done once).
    private static func check(at path: String, key: CalibrationKey, configuration: LlamaConfiguration)
        -> (status: CacheStatus, file: StatisticsFile?) {
        guard FileManager.default.fileExists(atPath: path) else { return (.absent, nil) }
        do {
            let file = try StatisticsFile(path: path, configuration: configuration)
            if let reason = file.key.mismatch(serving: key) { return (.stale(reason: reason), nil) }
            return (.hit, file)
        } catch {
            return (.invalid(reason: error.description), nil)
        }
    }

    /// The statistics for `key`: the cached file when it matches, else freshly computed by
    /// `calibrator` on `set` and written to `path` (replacing whatever was there).
    /// - Parameter known: the file's ``status(at:key:configuration:)`` when the caller has just
    ///   checked it (a miss is then not verified a second time).
    /// - Returns: the opened file and what the cache held before.
    public static func obtain(path: String, key: CalibrationKey, set: CalibrationSet, calibrator: Calibrator,
                              known: CacheStatus? = nil,
                              progress: ((CalibrationProgress) -> Void)? = nil) throws -> (file: StatisticsFile, status: CacheStatus) {
        let configuration = calibrator.model.configuration
        var before = known ?? .absent
        if known == nil || known == .hit {
            let checked = check(at: path, key: key, configuration: configuration)
            if let file = checked.file { return (file, checked.status) }
            before = checked.status
        }
        let writer = try StatisticsWriter(path: path, key: key, set: set, configuration: configuration)
        try calibrator.run(windows: set.windows, progress: progress) { try writer.append($0) }
        try writer.finish()
        return (try StatisticsFile(path: path, configuration: configuration), before)
    }
}

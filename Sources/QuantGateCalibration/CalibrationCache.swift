import Foundation
import QuantGateOutput
import QuantGateHDF5
import QuantGateModel

/// What a statistics file at the requested path means for a request.
public enum CacheStatus: Equatable, Sendable, CustomStringConvertible {
    /// No file there.
    case absent
    /// A verified file computed from the same inputs: reuse it.
    case hit
    /// A verified file computed from other inputs: recompute.
    case stale(reason: String)
    /// A file that is not a verified statistics file (foreign, truncated, altered): replaced only with `--force`.
    case invalid(reason: String)

    public var description: String {
        switch self {
        case .absent: "absent"
        case .hit: "hit"
        case .stale(let reason): "miss: \(reason)"
        case .invalid(let reason): "invalid: \(reason)"
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

    /// Throws unless a statistics file may be written at `path`, which holds what `status` says: nothing, or a
    /// statistics file of QuantGate's (replaced when stale), or — only with `replace` — another file.
    public static func checkWritable(path: String, status: CacheStatus, replace: Bool) throws {
        _ = try destination(path: path, status: status, replace: replace)
    }

    private static func destination(path: String, status: CacheStatus, replace: Bool) throws -> OutputDestination {
        try OutputDestination.cache(path, replace: replace, what: "a calibration file QuantGate can reuse") { _ in
            if case .invalid(let reason) = status { return reason }
            return nil
        }
    }

    /// The statistics for `key`: the cached file when it matches, else freshly computed by
    /// `calibrator` on `set` and written to `path` through ``OutputDestination`` (a unique temporary, checked
    /// against its own checksum before it is renamed). A stale statistics file of QuantGate's is replaced;
    /// anything else at `path` (another file, a damaged one, a directory) only with `replace` (`--force`).
    /// - Parameters:
    ///   - known: the file's ``status(at:key:configuration:)`` when the caller has just checked it (a miss
    ///     is then not verified a second time).
    ///   - recompute: compute anew even when the file matches.
    ///   - replace: replace a file at `path` that is not a statistics file QuantGate can reuse (`--force`).
    /// - Returns: the opened file and what the cache held before.
    /// - Throws: ``OutputError`` for a path that may not be written or a failed write (named by `path`,
    ///   never the temporary), or what the calibrator throws; nothing is left behind.
    public static func obtain(path: String, key: CalibrationKey, set: CalibrationSet, calibrator: Calibrator,
                              known: CacheStatus? = nil, recompute: Bool = false, replace: Bool = false,
                              progress: ((CalibrationProgress) -> Void)? = nil) throws -> (file: StatisticsFile, status: CacheStatus) {
        let configuration = calibrator.model.configuration
        var before = known ?? .absent
        if known == nil || known == .hit {
            let checked = check(at: path, key: key, configuration: configuration)
            if let file = checked.file, !recompute { return (file, checked.status) }
            before = checked.status
        }
        try destination(path: path, status: before, replace: replace).write { temporary in
            do {
                let writer = try StatisticsWriter(path: temporary, key: key, set: set, configuration: configuration)
                try calibrator.run(windows: set.windows, progress: progress) { try writer.append($0) }
                try writer.finish()
                _ = try StatisticsFile(path: temporary, configuration: configuration)
            } catch let error as HDF5Error {
                throw error.outputError(for: path)
            }
        }
        return (try StatisticsFile(path: path, configuration: configuration, verifyingContent: false), before)
    }
}

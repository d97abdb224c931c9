import Foundation

extension OutputDestination {
    /// The destination of a cache file at `path` (calibration statistics, baseline distributions): nothing
    /// there, or a cache of QuantGate's that may be recomputed over, or — only with `replace` (`--force`) —
    /// any other file; never a directory.
    /// - Parameters:
    ///   - what: what a reusable file is, for the message ("a calibration file QuantGate can reuse").
    ///   - foreign: why the existing file is not one of QuantGate's caches, or nil when it is.
    /// - Throws: ``OutputError`` naming the path and what is there, unless it may be written.
    public static func cache(_ path: String, replace: Bool, what: String, foreign: (String) -> String?) throws -> OutputDestination {
        try OutputDestination(path, kind: .file, replace: true).checkWritable()  // a directory, never
        guard FileManager.default.fileExists(atPath: path) else { return try OutputDestination(path, kind: .file, replace: false) }
        if !replace, let reason = foreign(path) {
            let detail = reason.hasPrefix(path + ": ") ? String(reason.dropFirst(path.count + 2)) : reason
            throw OutputError(path: path, reason: "exists and is not \(what) (\(detail)); pass --force to replace it")
        }
        return try OutputDestination(path, kind: .file, replace: true)
    }
}

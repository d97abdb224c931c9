import Crypto
import Foundation
import QuantGateCalibration
import QuantGateEval
import QuantGateHDF5
import QuantGateOutput
import QuantGateTensors

/// The baseline's recorded distributions in an HDF5 file, so later runs (another candidate, another
/// target) skip the baseline pass.
///
/// Layout (all datasets little-endian):
/// - root attributes: `format` = `quantgate.baseline-distributions`, `format_version` = 1, `key` (the
///   SHA-256 below, hex), `storage` (`full-f16` / `top-K-f16`), `vocabulary`, `tool_version`;
/// - `window_starts` i32 `[W+1]`: each window's first scored token;
/// - `target_log_prob` f32 `[N]`: log p(next token), exact;
/// - `argmax` i32 `[N]`: the baseline's top-1 token;
/// - `log_probs` u16 `[N, width]`: IEEE f16 bit patterns of the stored log-probabilities;
/// - `indices` i32 `[N, K]`: the vocabulary ids of `log_probs` (top-K storage only).
///
/// The key hashes (each field length-prefixed or 8 bytes LE): the layout version, the baseline's
/// content hash, the scored windows' hash (tokens and first scored position of every window), the
/// protocol name, context and stride, and the storage. A file whose key differs is recomputed;
/// one that cannot be read is reported and recomputed; a file that is not a baseline file is replaced only
/// with `--force`. Writes go through ``OutputDestination`` (a unique temporary, then a rename).
public enum BaselineCache {
    static let format = "quantgate.baseline-distributions"
    static let formatVersion: Int64 = 1

    /// The cache key for these inputs.
    public static func key(modelHash: String, tokensHash: String, protocolName: String, context: Int, stride: Int?,
                           storage: BaselineDistributions.Storage) -> String {
        var hash = SHA256()
        hash.update(lengthPrefixed: format)
        hash.update(int64: formatVersion)
        hash.update(lengthPrefixed: modelHash)
        hash.update(lengthPrefixed: tokensHash)
        hash.update(lengthPrefixed: protocolName)
        hash.update(int64: Int64(context))
        hash.update(int64: Int64(stride ?? 0))
        hash.update(lengthPrefixed: storage.label)
        return hash.hexDigest()
    }

    /// SHA-256 of the windows: per window its length, first scored position and token ids (i64 LE).
    public static func tokensHash(_ windows: [ScoringWindow]) -> String {
        var hash = SHA256()
        hash.update(int64: Int64(windows.count))
        for window in windows {
            hash.update(int64: Int64(window.tokens.count))
            hash.update(int64: Int64(window.firstScored))
            for token in window.tokens { hash.update(int64: Int64(token)) }
        }
        return hash.hexDigest()
    }

    /// The recorded distributions when `path` holds a file with this `key`; nil when it is absent, was
    /// made for other inputs, or cannot be read (`problem` then says why).
    public static func load(path: String, key: String) -> (distributions: BaselineDistributions?, problem: String?) {
        guard FileManager.default.fileExists(atPath: path) else { return (nil, nil) }
        do {
            let file = try HDF5File.open(path)
            defer { file.close() }
            guard case .string(format)? = try file.attribute("format"),
                  case .integer(formatVersion)? = try file.attribute("format_version") else {
                return (nil, "not a QuantGate baseline file of format version \(formatVersion)")
            }
            guard case .string(key)? = try file.attribute("key") else { return (nil, "made for other inputs") }
            guard case .string(let label)? = try file.attribute("storage"), let storage = storage(label),
                  case .integer(let vocabulary)? = try file.attribute("vocabulary") else {
                return (nil, "has no readable storage or vocabulary attribute")
            }
            let starts = try file.readIntegers("/window_starts").values.map { Int($0) }
            let distributions = try BaselineDistributions(
                storage: storage, vocabularySize: Int(vocabulary), windowStarts: starts,
                targetLogProbs: try file.readFloats("/target_log_prob").values, argmax: try file.readInt32s("/argmax").values,
                logProbs: try file.readUInt16s("/log_probs").values,
                indices: storage == .full ? [] : try file.readInt32s("/indices").values)
            return (distributions, nil)
        } catch {
            return (nil, OutputError.plainReason(error))
        }
    }

    /// Throws unless a baseline file may be written at `path`: nothing there, a baseline file of QuantGate's
    /// (replaced when it was made for other inputs), or — only with `replace` (`--force`) — another file;
    /// never a directory.
    public static func checkWritable(path: String, replace: Bool) throws {
        _ = try destination(path: path, replace: replace)
    }

    private static func destination(path: String, replace: Bool) throws -> OutputDestination {
        try OutputDestination.cache(path, replace: replace, what: "a QuantGate baseline file") { isBaselineFile($0) ? nil : "no \(format) format attribute" }
    }

    /// Whether `path` is an HDF5 file with this layout's `format` attribute (whatever its inputs).
    static func isBaselineFile(_ path: String) -> Bool {
        guard let file = try? HDF5File.open(path) else { return false }
        defer { file.close() }
        guard case .string(format)? = try? file.attribute("format") else { return false }
        return true
    }

    /// Writes `distributions` under `key` through ``OutputDestination`` (see ``checkWritable(path:replace:)``).
    /// - Throws: ``OutputError`` naming `path` (never the temporary); nothing is left behind.
    public static func save(_ distributions: BaselineDistributions, key: String, path: String, replace: Bool) throws {
        try destination(path: path, replace: replace).write { temporary in
            do {
                let file = try HDF5File.create(temporary)
                try file.setAttribute("format", .string(format))
                try file.setAttribute("format_version", .integer(formatVersion))
                try file.setAttribute("key", .string(key))
                try file.setAttribute("storage", .string(distributions.storage.label))
                try file.setAttribute("vocabulary", .integer(Int64(distributions.vocabularySize)))
                try file.setAttribute("tool_version", .string(QuantGateVersion.string))
                let n = distributions.tokenCount
                try file.write("/window_starts", int32s: distributions.windowStarts.map { Int32($0) }, shape: [distributions.windowStarts.count])
                if n > 0 {
                    try file.write("/target_log_prob", floats: distributions.targetLogProbs, shape: [n])
                    try file.write("/argmax", int32s: distributions.argmax, shape: [n])
                    try file.write("/log_probs", uint16s: distributions.logProbs, shape: [n, distributions.width])
                    if distributions.storage != .full {
                        try file.write("/indices", int32s: distributions.indices, shape: [n, distributions.width])
                    }
                }
                try file.closeChecked()
            } catch let error as HDF5Error {
                throw error.outputError(for: path)
            }
        }
    }

    private static func storage(_ label: String) -> BaselineDistributions.Storage? {
        if label == "full-f16" { return .full }
        guard label.hasPrefix("top-"), label.hasSuffix("-f16"), let k = Int(label.dropFirst(4).dropLast(4)), k > 0 else { return nil }
        return .topK(k)
    }
}

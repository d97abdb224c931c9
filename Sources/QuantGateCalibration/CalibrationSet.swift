import Crypto
import Foundation
import QuantGateTokenizer

/// The token windows a calibration runs on, with what was asked, a hash of what was chosen, and
/// diagnostics about the data.
public struct CalibrationSet: Sendable {
    /// The windows, each run from position 0.
    public var windows: [[Int]]
    /// What was asked: sequences, tokens per sequence, seed.
    public var requestedSequences: Int, requestedLength: Int, seed: UInt64
    /// The data as named (`--data` values).
    public var sources: [String]
    /// SHA-256 (hex) of the windows: their count, then per window its length (i64 LE) and ids (i32 LE).
    public var dataHash: String
    /// Size, coverage and quality figures.
    public var diagnostics: DataDiagnostics

    /// Reads, tokenizes and samples the data.
    /// - Parameters:
    ///   - names: how to name the data in reports (e.g. the `--data` values as typed, where a
    ///     directory stands for its files); the sources' own descriptions by default.
    ///   - maxPositions: the model's `max_position_embeddings`: longer windows are refused (nil: not checked).
    /// - Throws: ``CalibrationDataError`` naming the file at fault, when the data hold less than one full
    ///   window, or when the windows are longer than `maxPositions`.
    public static func load(sources: [CalibrationDataSource], names: [String]? = nil, tokenizer: Tokenizer,
                            vocabularySize: Int, maxPositions: Int? = nil, sequences: Int, length: Int,
                            seed: UInt64) throws -> CalibrationSet {
        precondition(sequences > 0 && length > 0)
        let input = try DocumentReader.read(sources, tokenizer: tokenizer, vocabularySize: vocabularySize)
        let named = (names ?? sources.map(\.description)).joined(separator: ", ")
        let windows: [[Int]], available: Int, tokensAvailable: Int
        var notes: [String] = []
        if let fixed = input.fixedWindows {
            guard !fixed.isEmpty else { throw CalibrationDataError.unreadable(path: named, reason: "hold no tokens") }
            windows = Array(fixed.prefix(sequences))
            available = fixed.count
            tokensAvailable = fixed.reduce(0) { $0 + $1.count }
            if let width = fixed.first?.count, let maxPositions, width > maxPositions {
                throw CalibrationDataError.invalidTokens(
                    path: named, reason: "holds windows of \(width) tokens, more than the model's max_position_embeddings (\(maxPositions))")
            }
            if let width = fixed.first?.count, width != length {
                notes.append("the token file's windows are \(width) tokens long; --seq-len \(length) does not apply")
            }
            if fixed.count < sequences {
                notes.append("the token file holds \(fixed.count) windows, fewer than the \(sequences) asked: using all \(fixed.count)")
            }
        } else {
            if let maxPositions, length > maxPositions {
                throw CalibrationDataError.windowsBeyondContext(length: length, maxPositions: maxPositions)
            }
            let stream = input.documents.flatMap { $0 }
            (windows, available) = WindowSampler.sample(stream: stream, count: sequences, length: length, seed: seed)
            tokensAvailable = stream.count
            guard available > 0 else { throw CalibrationDataError.tooFewTokens(sources: named, tokens: stream.count, length: length) }
            if available < sequences {
                notes.append("the data hold \(stream.count) tokens, \(available) windows of \(length), fewer than the \(sequences) asked: using all \(available), none repeated")
            }
        }
        let diagnostics = DataDiagnostics(
            documents: input.documents, windows: windows, windowsAvailable: available, tokensAvailable: tokensAvailable,
            requested: sequences * length, tokenizer: tokenizer, notes: notes)
        return CalibrationSet(
            windows: windows, requestedSequences: sequences, requestedLength: length, seed: seed,
            sources: names ?? sources.map(\.description), dataHash: hash(windows), diagnostics: diagnostics)
    }

    /// SHA-256 of the windows, as ``dataHash`` describes.
    public static func hash(_ windows: [[Int]]) -> String {
        var hasher = SHA256()
        hasher.update(int64: Int64(windows.count))
        for window in windows {
            hasher.update(int64: Int64(window.count))
            let ids = window.map { Int32(truncatingIfNeeded: $0).littleEndian }
            ids.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return hasher.hexDigest()
    }

    /// Tokens in all windows.
    public var tokenCount: Int { windows.reduce(0) { $0 + $1.count } }
}

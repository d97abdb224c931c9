import QuantGateTokenizer

/// What a calibration set holds, measured before any forward pass.
public struct DataDiagnostics: Codable, Sendable, Equatable {
    /// Tokens per document: smallest, median, 90th percentile, largest.
    public struct Lengths: Codable, Sendable, Equatable {
        public var minimum: Int, median: Int, p90: Int, maximum: Int
    }

    public var documents: Int
    public var documentTokens: Lengths?
    public var tokensAvailable: Int
    public var tokensRequested: Int
    public var tokensUsed: Int
    public var windowsAvailable: Int
    public var windowsUsed: Int
    /// Share of the available tokens that are the tokenizer's `unk_token`.
    public var unknownShare: Double
    /// Share of the available tokens that are byte-fallback `<0xNN>` tokens.
    public var byteFallbackShare: Double
    /// Windows identical to an earlier window of the set.
    public var duplicateWindows: Int
    /// Facts the user should know (fewer tokens than asked, …).
    public var notes: [String]

    init(documents: [[Int]], windows: [[Int]], windowsAvailable: Int, tokensAvailable: Int, requested: Int,
         tokenizer: Tokenizer, notes: [String]) {
        self.documents = documents.count
        let lengths = documents.map(\.count).sorted()
        documentTokens = lengths.isEmpty ? nil : Lengths(
            minimum: lengths[0], median: lengths[lengths.count / 2],
            p90: lengths[min(lengths.count - 1, lengths.count * 9 / 10)], maximum: lengths[lengths.count - 1])
        self.tokensAvailable = tokensAvailable
        tokensRequested = requested
        tokensUsed = windows.reduce(0) { $0 + $1.count }
        self.windowsAvailable = windowsAvailable
        windowsUsed = windows.count
        let counted = documents.isEmpty ? windows : documents
        let total = max(1, counted.reduce(0) { $0 + $1.count })
        let unknown = tokenizer.unknownTokenID
        let fallback = tokenizer.byteFallbackTokenIDs
        var unknownCount = 0, fallbackCount = 0
        for sequence in counted {
            for id in sequence {
                if id == unknown { unknownCount += 1 }
                if fallback.contains(id) { fallbackCount += 1 }
            }
        }
        unknownShare = Double(unknownCount) / Double(total)
        byteFallbackShare = Double(fallbackCount) / Double(total)
        var seen = Set<[Int]>()
        duplicateWindows = windows.reduce(0) { $0 + (seen.insert($1).inserted ? 0 : 1) }
        var notes = notes
        if duplicateWindows > 0 {
            notes.append("\(duplicateWindows) of \(windows.count) windows repeat an earlier one: the data repeat themselves")
        }
        if unknownShare + byteFallbackShare > 0.01 {
            notes.append(String(format: "%.1f%% of the tokens are unknown or byte-fallback: the data are far from the tokenizer's vocabulary",
                                100 * (unknownShare + byteFallbackShare)))
        }
        self.notes = notes
    }
}

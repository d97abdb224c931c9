import CKernels
import Foundation
import QuantGateTensors

/// The baseline model's predictive distributions at every scored position, kept so that any number
/// of candidates can be compared against one baseline pass (and cached on disk between runs).
///
/// Per scored token it keeps, exactly, the log-probability of the token that follows and the
/// baseline's top-1 prediction; and, for the KL divergence, log-probabilities stored as IEEE f16:
/// - ``Storage/full``: every vocabulary entry (`llama-perplexity --kl-divergence-base` keeps the same,
///   as 16-bit codes over the top 16 nats);
/// - ``Storage/topK(_:)``: the K most likely entries and their ids; the rest of the probability mass
///   is one "tail" bucket (see ``TokenComparison``). Used when full rows would not fit the budget.
public struct BaselineDistributions: Sendable, Equatable {
    public enum Storage: Sendable, Equatable {
        case full
        case topK(Int)

        /// `full-f16` or `top-K-f16`, as reports name it.
        public var label: String {
            switch self {
            case .full: "full-f16"
            case .topK(let k): "top-\(k)-f16"
            }
        }

        /// Bytes held for `tokens` scored tokens over a vocabulary of `vocabularySize`: f16 rows (full) or the top
        /// `k` f16 values with their i32 ids, plus each token's f32 log-probability and i32 argmax.
        public func bytes(tokens: Int, vocabularySize: Int) -> Int {
            switch self {
            case .full: tokens * (vocabularySize * 2 + 8)
            case .topK(let k): tokens * (k * 6 + 8)
            }
        }

        /// Full rows when `tokens × vocabulary` f16 values fit `budgetBytes`, else the top `k`.
        public static func choose(tokens: Int, vocabularySize: Int, budgetBytes: Int, k: Int = 256) -> Storage {
            let (bytes, overflow) = tokens.multipliedReportingOverflow(by: vocabularySize * 2)
            return !overflow && bytes <= budgetBytes || vocabularySize <= k ? .full : .topK(k)
        }
    }

    public let storage: Storage
    public let vocabularySize: Int
    /// Offsets of each window's first scored token; `windowStarts.last` is the token count.
    public private(set) var windowStarts: [Int]
    /// `log p(next token)` per scored token (f32, not rounded to f16).
    public private(set) var targetLogProbs: [Float]
    /// The baseline's most likely token per scored position.
    public private(set) var argmax: [Int32]
    /// f16 bit patterns, ``width`` per scored token.
    public private(set) var logProbs: [UInt16]
    /// Vocabulary ids of the stored entries, ``width`` per token (``Storage/topK(_:)`` only; empty for full rows).
    public private(set) var indices: [Int32]

    /// Entries stored per scored token.
    public var width: Int {
        switch storage {
        case .full: vocabularySize
        case .topK(let k): k
        }
    }

    public var tokenCount: Int { targetLogProbs.count }
    public var windowCount: Int { windowStarts.count - 1 }

    /// An empty record to ``append(logits:window:)`` to.
    public init(storage: Storage, vocabularySize: Int) {
        if case .topK(let k) = storage { precondition(k >= 1 && k < vocabularySize, "top-k must be in 1..<vocabulary") }
        self.storage = storage
        self.vocabularySize = vocabularySize
        windowStarts = [0]
        targetLogProbs = []
        argmax = []
        logProbs = []
        indices = []
    }

    /// A record read back from a cache; the arrays' sizes must agree with each other.
    public init(storage: Storage, vocabularySize: Int, windowStarts: [Int], targetLogProbs: [Float], argmax: [Int32],
                logProbs: [UInt16], indices: [Int32]) throws(EvalError) {
        self.init(storage: storage, vocabularySize: vocabularySize)
        let n = targetLogProbs.count
        guard windowStarts.first == 0, windowStarts.last == n, zip(windowStarts, windowStarts.dropFirst()).allSatisfy({ $0 <= $1 }),
              argmax.count == n, logProbs.count == n * width,
              indices.count == (storage == .full ? 0 : n * width),
              argmax.allSatisfy({ $0 >= 0 && Int($0) < vocabularySize }),
              indices.allSatisfy({ $0 >= 0 && Int($0) < vocabularySize })
        else { throw EvalError.invalidSetting(flag: "baseline distributions", reason: "have inconsistent sizes or ids") }
        self.windowStarts = windowStarts
        self.targetLogProbs = targetLogProbs
        self.argmax = argmax
        self.logProbs = logProbs
        self.indices = indices
    }

    /// Records the scored positions of one window from the baseline's logits at those positions (`[window.scoredCount, vocab]`,
    /// the rows ``ScoringWindow/scoredRows`` names).
    public mutating func append(logits: Matrix, window: ScoringWindow) {
        precondition(logits.columns == vocabularySize, "logits width \(logits.columns) != vocabulary \(vocabularySize)")
        precondition(logits.rows == window.scoredCount, "logits must hold the window's scored rows only")
        var row = [Float](repeating: 0, count: vocabularySize)
        var half = [UInt16](repeating: 0, count: width)
        for position in window.firstScored..<(window.tokens.count - 1) {
            let offset = (position - window.firstScored) * vocabularySize
            let (lse, top) = logits.values.withUnsafeBufferPointer { buffer in
                LogSoftmax.normaliser(UnsafeBufferPointer(rebasing: buffer[offset..<(offset + vocabularySize)]))
            }
            for j in 0..<vocabularySize { row[j] = Float(Double(logits.values[offset + j]) - lse) }
            targetLogProbs.append(row[window.tokens[position + 1]])
            argmax.append(Int32(top))
            switch storage {
            case .full:
                qg_f32_to_f16(row, &half, Int64(vocabularySize))
            case .topK(let k):
                let chosen = Self.largest(k, of: row)
                indices.append(contentsOf: chosen.map { Int32($0) })
                qg_f32_to_f16(chosen.map { row[$0] }, &half, Int64(k))
            }
            logProbs.append(contentsOf: half)
        }
        windowStarts.append(targetLogProbs.count)
    }

    /// Indices of `k` largest values, largest first (deterministic: a seeded quickselect, then a sort).
    static func largest(_ k: Int, of values: [Float]) -> [Int] {
        var order = Array(values.indices)
        // Partial selection: a quickselect to the k-th largest, then a sort of the first k.
        var low = 0, high = order.count - 1
        var random = SplitMix64(seed: 0x70b_4e5)
        while low < high {
            let pivot = values[order[low + Int(random.next() % UInt64(high - low + 1))]]
            var i = low, j = high
            while i <= j {
                while values[order[i]] > pivot { i += 1 }
                while values[order[j]] < pivot { j -= 1 }
                if i <= j { order.swapAt(i, j); i += 1; j -= 1 }
            }
            if k - 1 <= j { high = j } else if k - 1 >= i { low = i } else { break }
        }
        return order[0..<k].sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    }
}

import Foundation
import QuantGateModel
import QuantGateTensors

/// How a text is cut into windows and which predictions count.
public enum PerplexityProtocol: String, CaseIterable, Sendable, Codable {
    /// The transformers docs recipe ("Perplexity of fixed-length models"): windows of `ctx` tokens
    /// starting every `stride` tokens (stride = ctx: consecutive, the last window shorter), each
    /// scoring only tokens not scored before; the text is encoded as `tokenizer(text)` encodes it.
    case hf
    /// `llama-perplexity`: `tokens / ctx` whole chunks (the remainder dropped), the first token of each
    /// chunk replaced by BOS when the vocabulary adds one, only the second half of each chunk scored.
    case llamaCpp = "llama.cpp"
}

/// One forward window and the predictions scored in it: logits at positions
/// `firstScored ..< tokens.count - 1`, each against the token that follows.
public struct ScoringWindow: Sendable, Equatable {
    public var tokens: [Int]
    public var firstScored: Int

    public init(tokens: [Int], firstScored: Int) {
        self.tokens = tokens
        self.firstScored = firstScored
    }

    /// Predictions scored in this window.
    public var scoredCount: Int { max(0, tokens.count - 1 - firstScored) }

    /// The positions whose logits are scored: `firstScored ..< firstScored + scoredCount`. Evaluators ask the
    /// model for these rows only; row `r` of such logits predicts `tokens[firstScored + r + 1]`.
    public var scoredRows: Range<Int> { firstScored..<(firstScored + scoredCount) }
}

extension LlamaModel {
    /// The logits of each window's scored rows (``ScoringWindow/scoredRows``), handed to `body` in window order,
    /// with `progress(done, total)` in steps of a window through one block or the head; see
    /// ``LlamaModel/logits(windows:rows:order:hiddenBudgetBytes:progress:body:)``.
    public func scoredLogits(_ windows: [ScoringWindow], progress: ((Int, Int) -> Void)? = nil,
                             body: (Int, Matrix) throws -> Void) throws {
        try logits(windows: windows.map(\.tokens), rows: windows.map(\.scoredRows), progress: progress, body: body)
    }
}

/// Cuts token streams into ``ScoringWindow``s for each ``PerplexityProtocol``.
public enum PerplexityPlanner {
    /// The transformers recipe. Every token but the first is scored exactly once.
    /// - Precondition: `0 < stride <= context`.
    public static func hf(tokens: [Int], context: Int, stride: Int) -> [ScoringWindow] {
        precondition(stride > 0 && stride <= context, "stride must be in 1...context")
        var windows: [ScoringWindow] = []
        var previousEnd = 0
        var begin = 0
        while begin < tokens.count {
            let end = min(begin + context, tokens.count)
            let fresh = end - previousEnd            // targets not scored by an earlier window
            let window = Array(tokens[begin..<end])
            windows.append(ScoringWindow(tokens: window, firstScored: max(0, window.count - 1 - fresh)))
            previousEnd = end
            if end == tokens.count { break }
            begin += stride
        }
        return windows
    }

    /// `llama-perplexity`'s chunks: `tokens.count / context` of them, BOS in front when `bos` is given.
    public static func llamaCpp(tokens: [Int], context: Int, bos: Int?) -> [ScoringWindow] {
        (0..<(tokens.count / context)).map { chunk in
            var window = Array(tokens[(chunk * context)..<((chunk + 1) * context)])
            if let bos { window[0] = bos }
            return ScoringWindow(tokens: window, firstScored: context / 2)
        }
    }
}

/// A measured perplexity.
public struct PerplexityResult: Sendable, Codable, Equatable {
    public var protocolName: String
    public var context: Int
    public var stride: Int?
    public var windows: Int
    public var tokensScored: Int
    /// Mean negative log-likelihood per scored token (nats).
    public var meanNLL: Double
    /// `exp(meanNLL)`.
    public var perplexity: Double
    /// Standard error of the perplexity, as `llama-perplexity` computes it:
    /// `ppl · sqrt((mean(nll²) − mean(nll)²) / (n − 1))`.
    public var standardError: Double
    /// Tokens run through the model (scored or context) per second of wall time.
    public var tokensPerSecond: Double
    public var seconds: Double
}

/// Runs windows through a model and accumulates per-token negative log-likelihoods.
public enum PerplexityEvaluator {
    /// Scores `windows` with `model`. `progress(done, total)` counts steps of a window through one block or the
    /// head (``LlamaModel/scoredLogits(_:progress:body:)``).
    public static func run(
        model: LlamaModel, windows: [ScoringWindow], protocolName: String, context: Int, stride: Int?,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> PerplexityResult {
        let started = DispatchTime.now().uptimeNanoseconds
        var sum = 0.0
        var sumOfSquares = 0.0
        var count = 0
        var forwarded = 0
        try model.scoredLogits(windows, progress: progress) { index, logits in
            let window = windows[index]
            // Rows scored in parallel, summed in order: the same sums whatever the core count.
            var nlls = [Double](repeating: 0, count: window.scoredCount)
            nlls.withUnsafeMutableBufferPointer { buffer in
                let out = UnsafeSendable(buffer.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: window.scoredCount) { row in
                    let target = window.tokens[window.firstScored + row + 1]
                    out.pointer[row] = -LogSoftmax.logProbability(logits.values, columns: logits.columns, row: row, of: target).logProb
                }
            }
            for nll in nlls {
                sum += nll
                sumOfSquares += nll * nll
                count += 1
            }
            forwarded += window.tokens.count
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let (mean, perplexity, standardError) = summary(nllSum: sum, squares: sumOfSquares, count: count)
        return PerplexityResult(
            protocolName: protocolName, context: context, stride: stride, windows: windows.count, tokensScored: count,
            meanNLL: mean, perplexity: perplexity, standardError: standardError,
            tokensPerSecond: Double(forwarded) / seconds, seconds: seconds)
    }

    /// Mean NLL, perplexity and `llama-perplexity`'s standard error, `ppl · sqrt((E[nll²] − E[nll]²) / (n − 1))`,
    /// from the sum and the sum of squares of `count` per-token NLLs.
    public static func summary(nllSum: Double, squares: Double, count: Int) -> (meanNLL: Double, perplexity: Double, standardError: Double) {
        let mean = count > 0 ? nllSum / Double(count) : .nan
        let perplexity = exp(mean)
        let variance = count > 1 ? max(0, squares / Double(count) - mean * mean) : 0
        return (mean, perplexity, count > 1 ? perplexity * (variance / Double(count - 1)).squareRoot() : .nan)
    }
}

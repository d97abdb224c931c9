import Foundation
import QuantGateModel
import QuantGateTensors
import QuantGateTokenizer

/// One item's result for one model.
public struct TaskOutcome: Sendable, Equatable {
    public var correct: Bool
    /// Length-normalised correctness (multiple choice only).
    public var correctNorm: Bool?
    /// Summed continuation log-likelihood per choice (multiple choice only).
    public var logLikelihoods: [Double]
    /// The generated answer (exact match only).
    public var output: String?
}

/// Scores task items with a model, the same way for the baseline and every candidate.
///
/// Multiple choice follows lm-evaluation-harness's log-likelihood requests: trailing whitespace of
/// the context moves into the continuation, context and continuation are encoded jointly
/// (`encode(context + continuation)`, BOS where the tokenizer adds one) and the continuation is what
/// follows the context's own token count, fed after the context's own tokens; the score is the summed
/// log-probability of those tokens. `acc` takes the argmax of the scores, `acc_norm` of the scores
/// divided by each choice's length in characters (code points, as Python's `len`). The context is run
/// once and its KV cache shared by every choice.
public struct TaskScorer: Sendable {
    public let model: LlamaModel
    public let tokenizer: Tokenizer

    public init(model: LlamaModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Scores every item of `suite` in order. `progress(done, total)` follows each item.
    public func score(_ suite: TaskSuite, progress: ((Int, Int) -> Void)? = nil) throws -> [TaskOutcome] {
        var outcomes: [TaskOutcome] = []
        outcomes.reserveCapacity(suite.items.count)
        for (index, item) in suite.items.enumerated() {
            switch item.kind {
            case .choice(let context, let choices, let gold, let delimiter):
                outcomes.append(try scoreChoice(context: context, choices: choices, gold: gold, delimiter: delimiter))
            case .exact(let prompt, let target, let stop, let maxTokens):
                let generation = try GreedyGenerator(model: model, tokenizer: tokenizer)
                    .generate(prompt: prompt, maxTokens: maxTokens, stop: stop)
                let trimmed = generation.text.trimmingCharacters(in: .whitespacesAndNewlines)
                outcomes.append(TaskOutcome(correct: trimmed == target.trimmingCharacters(in: .whitespacesAndNewlines),
                                            correctNorm: nil, logLikelihoods: [], output: generation.text))
            }
            progress?(index + 1, suite.items.count)
        }
        return outcomes
    }

    private func scoreChoice(context rawContext: String, choices: [String], gold: Int, delimiter: String) throws -> TaskOutcome {
        let kept = rawContext.reversed().drop { $0.isWhitespace }.count
        let context = String(rawContext.prefix(kept))
        let moved = String(rawContext.dropFirst(kept))
        let contextTokens = tokenizer.encode(context, addSpecialTokens: true)
        guard !contextTokens.isEmpty else {
            throw EvalError.invalidSetting(flag: "task item", reason: "has a context that encodes to no tokens (and the tokenizer adds no BOS)")
        }
        // The context runs once; every choice continues from a copy of its KV cache.
        var shared = KVCache(configuration: model.configuration)
        let lastRow = Self.lastRow(try model.extend(&shared, with: contextTokens))
        var scores: [Double] = []
        for choice in choices {
            let whole = tokenizer.encode(context + moved + delimiter + choice, addSpecialTokens: true)
            // lm-evaluation-harness: the continuation is what follows the context's own token count in the
            // joint encoding, fed after the context's own tokens.
            let continuation = Array(whole.dropFirst(contextTokens.count))
            guard !continuation.isEmpty else {
                scores.append(0)
                continue
            }
            var cache = shared
            var sum = LogSoftmax.logProbability(lastRow.values, columns: lastRow.columns, row: 0, of: continuation[0]).logProb
            if continuation.count > 1 {
                let logits = try model.extend(&cache, with: Array(continuation.dropLast()))
                for i in 1..<continuation.count {
                    sum += LogSoftmax.logProbability(logits.values, columns: logits.columns, row: i - 1, of: continuation[i]).logProb
                }
            }
            scores.append(sum)
        }
        // Python `len`: code points, not grapheme clusters.
        let normalised = zip(scores, choices).map { $0 / Double(max(1, $1.unicodeScalars.count)) }
        return TaskOutcome(correct: Self.firstArgmax(scores) == gold, correctNorm: Self.firstArgmax(normalised) == gold,
                           logLikelihoods: scores, output: nil)
    }

    private static func lastRow(_ logits: Matrix) -> Matrix {
        Matrix(rows: 1, columns: logits.columns, values: logits.row(logits.rows - 1))
    }

    private static func firstArgmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

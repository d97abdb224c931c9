import Foundation
import QuantGateModel
import QuantGateTensors
import QuantGateTokenizer

/// The generation smoke test: greedy generations from a few prompts, checked for the failures that
/// perplexity can miss — empty output, never stopping, loops, gibberish — against the baseline's own
/// generations from the same prompts.
public struct SmokeTest: Sendable {
    public var prompts: [String]
    public var maxTokens: Int

    public init(prompts: [String], maxTokens: Int = 64) {
        self.prompts = prompts
        self.maxTokens = maxTokens
    }

    /// Reads prompts from a JSONL file of `{"id": …, "prompt": …}` lines (fields besides `prompt` are ignored).
    /// - Throws: ``EvalError/invalidTaskFile(file:line:reason:)``.
    public static func prompts(path: String) throws -> [String] {
        let text = try TextFile.read(path) { .invalidTaskFile(file: path, line: 0, reason: $0) }
        var prompts: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            guard let object = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)), object.object != nil else {
                throw EvalError.invalidTaskFile(file: path, line: index + 1, reason: "is not a JSON object")
            }
            guard let prompt = object["prompt"]?.string, !prompt.isEmpty else {
                throw EvalError.invalidTaskFile(file: path, line: index + 1, reason: "needs a non-empty string \"prompt\"")
            }
            prompts.append(prompt)
        }
        guard !prompts.isEmpty else { throw EvalError.invalidTaskFile(file: path, line: 0, reason: "holds no prompts") }
        return prompts
    }

    /// Greedy generations of `model` from every prompt.
    public func generate(model: LlamaModel, tokenizer: Tokenizer) throws -> [GreedyGenerator.Generation] {
        let generator = GreedyGenerator(model: model, tokenizer: tokenizer)
        return try prompts.map { try generator.generate(prompt: $0, maxTokens: maxTokens) }
    }

    /// Statistics of `generations`, scored by `judge` (the baseline model).
    public static func measure(_ generations: [GreedyGenerator.Generation], judge: LlamaModel) throws -> Measurement {
        var nll = 0.0, count = 0
        for generation in generations where !generation.tokens.isEmpty {
            let tokens = generation.promptTokens + generation.tokens
            let logits = try judge.logits(tokens: tokens)
            for position in (generation.promptTokens.count - 1)..<(tokens.count - 1) {
                nll -= LogSoftmax.logProbability(logits.values, columns: logits.columns, row: position, of: tokens[position + 1]).logProb
                count += 1
            }
        }
        let repetition = generations.map { repeatedShare($0.tokens) }.reduce(0, +) / Double(max(1, generations.count))
        return Measurement(prompts: generations.count, nonEmpty: generations.filter { !$0.tokens.isEmpty }.count,
                           stoppedAtEOS: generations.filter(\.stoppedAtEOS).count, repetition: repetition,
                           judgeNLL: count > 0 ? nll / Double(count) : .nan,
                           empty: generations.indices.filter { generations[$0].tokens.isEmpty })
    }

    /// What ``measure(_:judge:)`` found.
    public struct Measurement: Sendable, Equatable {
        public var prompts: Int
        public var nonEmpty: Int
        public var stoppedAtEOS: Int
        /// Mean over generations of the share of 4-grams that repeat an earlier 4-gram.
        public var repetition: Double
        /// Mean NLL per generated token under the judge (the baseline), nats.
        public var judgeNLL: Double
        /// Indices of prompts with an empty generation.
        public var empty: [Int]
    }

    /// The candidate's problems relative to the baseline (empty: passed). Rules:
    /// - no empty generation where the baseline produced text;
    /// - at least half as many EOS stops as the baseline made (rounded up);
    /// - repetition at most the baseline's + 0.25;
    /// - gibberish: the baseline must find the candidate's text at least as likely as natural text,
    ///   i.e. the judge's NLL on it at most `naturalNLL` (the baseline's mean NLL on the evaluation text).
    public static func problems(candidate: Measurement, baseline: Measurement, naturalNLL: Double) -> [String] {
        var problems: [String] = []
        let newlyEmpty = candidate.empty.filter { !baseline.empty.contains($0) }
        if !newlyEmpty.isEmpty { problems.append("empty generation for prompt(s) \(newlyEmpty.map { $0 + 1 })") }
        let neededStops = (baseline.stoppedAtEOS + 1) / 2
        if candidate.stoppedAtEOS < neededStops {
            problems.append("stopped at EOS on \(candidate.stoppedAtEOS) prompts, the baseline on \(baseline.stoppedAtEOS)")
        }
        if candidate.repetition > baseline.repetition + 0.25 {
            problems.append(String(format: "repetition %.2f against the baseline's %.2f", candidate.repetition, baseline.repetition))
        }
        if !(candidate.judgeNLL <= naturalNLL) && candidate.nonEmpty > 0 {
            problems.append(String(format: "gibberish: the baseline scores the output at %.2f nats/token, natural text at %.2f",
                                   candidate.judgeNLL, naturalNLL))
        }
        return problems
    }

    /// Share of a sequence's 4-grams that already occurred earlier in it.
    static func repeatedShare(_ tokens: [Int]) -> Double {
        guard tokens.count >= 5 else { return 0 }
        var seen = Set<[Int]>()
        var repeated = 0
        for start in 0...(tokens.count - 4) where !seen.insert(Array(tokens[start..<(start + 4)])).inserted { repeated += 1 }
        return Double(repeated) / Double(tokens.count - 3)
    }
}

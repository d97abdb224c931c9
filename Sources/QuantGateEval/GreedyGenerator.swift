import QuantGateModel
import QuantGateTensors
import QuantGateTokenizer

/// Greedy decoding with a KV cache: the prompt is prefilled once, then one token per step.
public struct GreedyGenerator: Sendable {
    public let model: LlamaModel
    public let tokenizer: Tokenizer

    public init(model: LlamaModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// What one generation produced.
    public struct Generation: Sendable, Equatable {
        /// Prompt ids as fed (with BOS when the tokenizer adds one).
        public var promptTokens: [Int]
        /// Generated ids, EOS excluded.
        public var tokens: [Int]
        /// The decoded generation, cut before the first stop string.
        public var text: String
        public var stoppedAtEOS: Bool
    }

    /// Generates from `prompt` until EOS, a stop string in the decoded text, or `maxTokens` tokens.
    /// Ties in the argmax go to the lowest id. Stops before the model's context would be exceeded.
    public func generate(prompt: String, maxTokens: Int, stop: [String] = []) throws -> Generation {
        let promptTokens = tokenizer.encode(prompt, addSpecialTokens: true)
        let limit = min(maxTokens, model.configuration.maxPositionEmbeddings - promptTokens.count)
        var generated: [Int] = []
        var stoppedAtEOS = false
        guard limit > 0 else { return Generation(promptTokens: promptTokens, tokens: [], text: "", stoppedAtEOS: false) }
        var cache = KVCache(configuration: model.configuration)
        var logits = try model.extend(&cache, with: promptTokens)
        while generated.count < limit {
            let next = LogSoftmax.logProbability(logits.values, columns: logits.columns, row: logits.rows - 1, of: 0).argmax
            if next == tokenizer.eosTokenID {
                stoppedAtEOS = true
                break
            }
            generated.append(next)
            if !stop.isEmpty, Self.cut(tokenizer.decode(generated), at: stop) != nil { break }
            if generated.count < limit { logits = try model.extend(&cache, with: [next]) }
        }
        let text = tokenizer.decode(generated)
        return Generation(promptTokens: promptTokens, tokens: generated, text: Self.cut(text, at: stop) ?? text,
                          stoppedAtEOS: stoppedAtEOS)
    }

    /// `text` before the earliest occurrence of any stop string, or nil when none occurs.
    static func cut(_ text: String, at stop: [String]) -> String? {
        let hits = stop.compactMap { text.range(of: $0)?.lowerBound }
        guard let first = hits.min() else { return nil }
        return String(text[..<first])
    }
}

import Foundation
import QuantGateModel
import QuantGateTokenizer

/// One `quantgate eval` perplexity measurement: text → tokens → windows → model → result,
/// with the input checks a user needs before minutes of compute are spent.
public struct PerplexityRun: Sendable {
    public var protocolKind: PerplexityProtocol
    public var context: Int
    /// Window step for the `hf` protocol (default: `context`, no overlap). Ignored by `llama.cpp`.
    public var stride: Int?
    /// Allow `context` beyond the model's `max_position_embeddings` (`--allow-long-context`).
    public var allowLongContext: Bool

    public init(protocolKind: PerplexityProtocol = .hf, context: Int = 512, stride: Int? = nil, allowLongContext: Bool = false) {
        self.protocolKind = protocolKind
        self.context = context
        self.stride = stride
        self.allowLongContext = allowLongContext
    }

    /// Tokenises the text at `textPath` and plans its windows.
    /// - Throws: ``EvalError`` for an unreadable or too short text, or settings out of range.
    public func plan(textPath: String, tokenizer: Tokenizer, configuration: LlamaConfiguration) throws -> [ScoringWindow] {
        try validate(configuration: configuration)
        return try plan(text: Self.readText(textPath), name: textPath, tokenizer: tokenizer, configuration: configuration)
    }

    /// Reads a UTF-8 text file.
    /// - Throws: ``EvalError/unreadableText(file:reason:)``.
    public static func readText(_ path: String) throws -> String {
        try TextFile.read(path) { .unreadableText(file: path, reason: $0) }
    }

    /// Tokenises `text` (named `name` in errors) and plans its windows.
    public func plan(text: String, name textPath: String, tokenizer: Tokenizer, configuration: LlamaConfiguration) throws -> [ScoringWindow] {
        try validate(configuration: configuration)
        // Both protocols encode as their reference does: tokenizer(text) / common_tokenize(…, add_special = true).
        let tokens = tokenizer.encode(text, addSpecialTokens: true)
        switch protocolKind {
        case .hf:
            guard tokens.count >= context else {
                throw EvalError.textTooShort(file: textPath, tokens: tokens.count, needed: context, protocolName: "hf")
            }
            return PerplexityPlanner.hf(tokens: tokens, context: context, stride: stride ?? context)
        case .llamaCpp:
            guard tokens.count >= 2 * context else {
                throw EvalError.textTooShort(file: textPath, tokens: tokens.count, needed: 2 * context, protocolName: "llama.cpp")
            }
            return PerplexityPlanner.llamaCpp(
                tokens: tokens, context: context, bos: tokenizer.addsBOS ? tokenizer.bosTokenID : nil)
        }
    }

    /// Checks the settings against the model.
    func validate(configuration: LlamaConfiguration) throws {
        // 8 keeps at least 3 scored tokens per llama.cpp chunk, so the standard error is defined.
        guard context >= 8 else { throw EvalError.invalidSetting(flag: "--ctx", reason: "must be at least 8, got \(context)") }
        if context > configuration.maxPositionEmbeddings && !allowLongContext {
            throw EvalError.contextTooLong(context: context, maximum: configuration.maxPositionEmbeddings)
        }
        if let stride, stride < 1 || stride > context {
            throw EvalError.invalidSetting(flag: "--stride", reason: "must be in 1...\(context) (the --ctx), got \(stride)")
        }
        if stride != nil && protocolKind == .llamaCpp {
            throw EvalError.invalidSetting(flag: "--stride", reason: "applies to the hf protocol only (llama.cpp scores fixed chunks)")
        }
    }

    /// Plans and evaluates.
    public func run(model: LlamaModel, tokenizer: Tokenizer, textPath: String,
                    progress: ((Int, Int) -> Void)? = nil) throws -> PerplexityResult {
        let windows = try plan(textPath: textPath, tokenizer: tokenizer, configuration: model.configuration)
        return try evaluate(model: model, windows: windows, progress: progress)
    }

    /// Evaluates windows already planned (plan first, so bad input fails before weights are loaded).
    public func evaluate(model: LlamaModel, windows: [ScoringWindow],
                         progress: ((Int, Int) -> Void)? = nil) throws -> PerplexityResult {
        try PerplexityEvaluator.run(
            model: model, windows: windows, protocolName: protocolKind.rawValue, context: context,
            stride: protocolKind == .hf ? (stride ?? context) : nil, progress: progress)
    }
}

import ArgumentParser
import Foundation
import QuantGateEval
import QuantGateModel
import QuantGateQuantize
import QuantGateTokenizer

/// `quantgate eval MODEL --text FILE`: perplexity with its standard error.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's perplexity on a text, with its standard error.",
        discussion: """
            Protocols:
              hf         the transformers recipe ("Perplexity of fixed-length models"): the text encoded as \
            tokenizer(text) does, windows of --ctx tokens every --stride tokens (default: --ctx, no overlap; the \
            last window shorter), each scoring only tokens not scored before.
              llama.cpp  what llama-perplexity computes: tokens / --ctx whole chunks (the rest dropped), the \
            first token of each chunk replaced by BOS when the vocabulary adds one, only the second half of \
            each chunk scored; the same ± formula. Needs at least 2 × --ctx tokens.
            The standard error is ppl · sqrt(var(nll) / (n − 1)) over scored tokens, as llama-perplexity prints it.
            """)

    @Argument(help: "A model directory (config.json, safetensors weights, tokenizer.json) or a .gguf file.")
    var model: String

    @Option(help: "The UTF-8 text to score.")
    var text: String

    @Option(help: "Tokens per window.")
    var ctx: Int = 512

    @Option(help: "Window step for the hf protocol (sliding windows score only new tokens).")
    var stride: Int?

    @Option(name: .customLong("protocol"), help: "hf or llama.cpp.")
    var protocolKind: PerplexityProtocol = .hf

    @Flag(help: "Allow --ctx beyond the model's max_position_embeddings.")
    var force = false

    @Flag(help: "Print a JSON report on stdout.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw InputError(description: "\(model): no such file or directory")
        }
        let runner = PerplexityRun(protocolKind: protocolKind, context: ctx, stride: stride, force: force)
        let network: LlamaModel, windows: [ScoringWindow]
        if model.lowercased().hasSuffix(".gguf") {
            // The artefact itself: weights dequantized from the file, tokenizer rebuilt from its metadata.
            let artefact = try GGUFModel(path: model)
            windows = try runner.plan(textPath: text, tokenizer: artefact.tokenizer, configuration: artefact.configuration)
            network = try LlamaModel(configuration: artefact.configuration, source: artefact.weights)
        } else {
            let directory = try ModelDirectory(path: model)
            let tokenizer = try Tokenizer(directory: model)
            // Check the text and settings before converting any weights.
            windows = try runner.plan(textPath: text, tokenizer: tokenizer, configuration: directory.configuration)
            network = try LlamaModel(directory: directory)
        }
        let progress = Progress(enabled: !quiet, label: "eval")
        let result = try runner.evaluate(model: network, windows: windows) { done, total in
            progress.update(done, of: total)
        }
        progress.finish()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(String(format: "perplexity  %.4f ± %.5f  (%@ protocol, ctx %d%@)", result.perplexity, result.standardError,
                         result.protocolName, result.context, result.stride.map { ", stride \($0)" } ?? ""))
            print(String(format: "mean NLL    %.6f nats over %d scored tokens in %d windows", result.meanNLL,
                         result.tokensScored, result.windows))
            print(String(format: "speed       %.0f tokens/s (%.1f s)", result.tokensPerSecond, result.seconds))
        }
    }
}

extension PerplexityProtocol: ExpressibleByArgument {}

import Foundation
import QuantGateEval
import QuantGateModel
import QuantGateTestSupport
import QuantGateTokenizer
import Testing

/// `quantgate eval`'s perplexity against the reference implementations on the example model:
/// transformers (hf protocol, `Tools/make_golden_forward.py`) and llama.cpp (llama.cpp protocol on
/// the F32 GGUF, `Tools/interop_llamacpp_perplexity.py`).
@Suite("Perplexity agrees with transformers and llama.cpp")
struct PerplexityAgreementTests {
    struct Reference: Decodable {
        var perplexity: Double
        var tokens_scored: Int
        var ctx: Int
    }

    static let text = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Calibration/eval/hamlet.txt").path

    static func evaluate(_ kind: PerplexityProtocol) throws -> PerplexityResult {
        let directory = try ModelDirectory(path: Fixtures.exampleModel.path)
        let tokenizer = try Tokenizer(directory: Fixtures.exampleModel.path)
        return try PerplexityRun(protocolKind: kind, context: 512)
            .run(model: LlamaModel(directory: directory), tokenizer: tokenizer, textPath: text)
    }

    @Test("perplexity matches the reference (hf: transformers within 0.01 %; llama.cpp: llama.cpp within 0.1 %)", arguments: [
        (PerplexityProtocol.hf, "reference_perplexity.json", 1e-4),
        (PerplexityProtocol.llamaCpp, "reference_perplexity_llamacpp.json", 1e-3),
    ])
    func agrees(kind: PerplexityProtocol, file: String, relativeTolerance: Double) throws {
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: Fixtures.exampleModel.appendingPathComponent(file)))
        let result = try Self.evaluate(kind)
        #expect(result.tokensScored == reference.tokens_scored)
        let relative = abs(result.perplexity / reference.perplexity - 1)
        #expect(relative <= relativeTolerance, "\(kind): ours \(result.perplexity), reference \(reference.perplexity)")
        #expect(result.standardError > 0 && result.standardError < result.perplexity / 10)
    }

    @Test("hf protocol with overlapping windows (stride 256 < ctx 512) within 0.01 % of transformers")
    func overlappingWindows() throws {
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: Fixtures.exampleModel.appendingPathComponent("reference_perplexity_stride.json")))
        let tokenizer = try Tokenizer(directory: Fixtures.exampleModel.path)
        let text = try String(contentsOfFile: Self.text, encoding: .utf8)
        let tokens = Array(tokenizer.encode(text).prefix(4096))
        let windows = PerplexityPlanner.hf(tokens: tokens, context: 512, stride: 256)
        let model = try LlamaModel(directory: ModelDirectory(path: Fixtures.exampleModel.path))
        let result = try PerplexityEvaluator.run(model: model, windows: windows, protocolName: "hf", context: 512, stride: 256)
        #expect(result.tokensScored == reference.tokens_scored)
        #expect(abs(result.perplexity / reference.perplexity - 1) <= 1e-4, "ours \(result.perplexity), transformers \(reference.perplexity)")
    }
}

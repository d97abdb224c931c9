import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// An FP8 directory as the runtime computes it: dequantized weights, and each quantized Linear's input
/// rounded to E4M3 with vLLM's scale (the fused group's largest static scale, or per token).
@Suite("FP8 model")
struct FP8ModelTests {
    @Test("static scales: q/k/v and gate/up share their group's largest input_scale; lm_head stays f32")
    func staticFusedScales() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        var maxima = try FP8ExportTests.maxima(FP8ExportTests.bard, 1)
        maxima["model.layers.1.self_attn.k_proj"] = 3
        maxima["model.layers.1.mlp.up_proj"] = 5
        try FP8ExportTests.export(FP8ExportTests.bard, to: out, maxima: maxima)
        let model = try FP8Model(directory: out)
        let source = model.weights
        func rounding(_ module: String) -> InputQuantization? { source.inputQuantization(forWeight: module + ".weight") }
        let one = FP8Quantizer.round(1 / 448, to: .bfloat16), three = FP8Quantizer.round(3 / 448, to: .bfloat16)
        for leaf in ["q_proj", "k_proj", "v_proj"] { #expect(rounding("model.layers.1.self_attn.\(leaf)") == .fp8E4M3(scale: three)) }
        #expect(rounding("model.layers.1.self_attn.o_proj") == .fp8E4M3(scale: one))
        #expect(rounding("model.layers.0.self_attn.q_proj") == .fp8E4M3(scale: one))
        let five = FP8Quantizer.round(5 / 448, to: .bfloat16)
        #expect(rounding("model.layers.1.mlp.gate_proj") == .fp8E4M3(scale: five))
        #expect(rounding("model.layers.1.mlp.down_proj") == .fp8E4M3(scale: one))
        #expect(rounding("lm_head") == nil && source.inputQuantization(forWeight: "model.embed_tokens.weight") == nil)

        // The runtime model runs, and rounding the inputs changes the logits (W8A8, not W8A16); these made-up
        // maxima saturate many inputs, so only the difference is asserted (the gate tests judge the real scales).
        let llama = try LlamaModel(configuration: model.configuration, source: source)
        let tokens = [0, 17, 230, 1024, 9, 77]
        let w8a8 = try llama.logits(tokens: tokens)
        let w8a16 = try LlamaModel(configuration: model.configuration, source: WeightOnly(inner: source)).logits(tokens: tokens)
        #expect(w8a8.values != w8a16.values && w8a8.values.allSatisfy(\.isFinite))
    }

    @Test("tensor scales: q/k/v members are requantized to the group's largest weight scale, as vLLM does")
    func perTensorRequantization() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        try FP8ExportTests.export(FP8ExportTests.bard, to: out, scheme: FP8Scheme(weights: .tensor, activations: .dynamic), maxima: [:])
        let model = try FP8Model(directory: out)
        let prefix = "model.layers.2.self_attn."
        let scales = try ["q_proj", "k_proj", "v_proj"].map { try model.checkpoint.weightScales(module: prefix + $0)[0] }
        let largest = scales.max()!
        #expect(Set(scales).count > 1, "the fixture's q/k/v have different tensor scales")
        for (leaf, scale) in zip(["q_proj", "k_proj", "v_proj"], scales) {
            let stored = try model.checkpoint.floats(prefix + leaf + ".weight").values
            let runtime = try model.weights.weight(prefix + leaf + ".weight").values
            if scale == largest {
                #expect(runtime == stored, "\(leaf) already has the largest scale")
            } else {
                #expect(runtime != stored, "\(leaf) requantized")
                // Every runtime value is an E4M3 value times the largest scale, within one E4M3 step of the stored one.
                for (a, b) in zip(runtime, stored) {
                    let code = a / largest
                    #expect(InputQuantization.fp8E4M3(scale: 1).apply(Matrix(rows: 1, columns: 1, values: [code])).values[0] == code)
                    #expect(abs(a - b) <= abs(b) / 8 + largest / 512)
                }
            }
        }
        let down = "model.layers.2.mlp.down_proj.weight"
        #expect(try model.weights.weight(down).values == model.checkpoint.floats(down).values, "down_proj fuses with nothing")
    }

    /// The same weights with f32 inputs.
    struct WeightOnly: WeightSource {
        let inner: FP8WeightSource
        func weight(_ name: String) throws -> (shape: [Int], values: [Float]) { try inner.weight(name) }
    }

    @Test("dynamic scales: each token row scaled by its own max |x| / 448, floored at 1/(448·512)")
    func perTokenRounding() {
        let x = Matrix(rows: 3, columns: 5, values: [0.1, -2.0, 0.33, 1.7, 0.0,
                                                     0, 0, 0, 0, 0,
                                                     1e-9, -3e-9, 2e-9, 0, 5e-10])
        let y = InputQuantization.fp8E4M3PerToken.apply(x)
        #expect(abs(y.values[1] + 2.0) <= 1e-6, "the row's largest magnitude maps to ±448 · scale")
        #expect(y.values[5..<10].allSatisfy { $0 == 0 })
        for (a, b) in zip(x.values[0..<5], y.values[0..<5]) { #expect(abs(a - b) <= abs(a) / 16 + 1e-7) }
        #expect(y.values[10..<15].allSatisfy { $0 == 0 }, "a row far below 1/(448·512) · 2⁻⁹ rounds to zero under the scale floor")

        let scale: Float = 0.01
        let fixed = InputQuantization.fp8E4M3(scale: scale).apply(x)
        // −2.0 / 0.01 = −200, a tie between −192 and −208 that goes to the even mantissa; 170 rounds to 176.
        #expect(fixed.values[1] == -192 * scale && fixed.values[3] == 176 * scale)
    }
}

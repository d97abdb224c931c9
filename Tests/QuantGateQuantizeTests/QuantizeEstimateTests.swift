import Foundation
import QuantGateCalibration
import QuantGateEval
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateTensors
import Testing

/// The memory estimates of `--dry-run` against what runs measured on a checkpoint with Llama-3.1-8B's shapes
/// (docs/performance.md, "Llama-3.1-8B's shapes": `run.peakRSSBytes` or `/usr/bin/time -v`, 2026-12-07), so a
/// formula that drifts from the code it describes fails here.
@Suite("QuantizeEstimate at Llama-3.1-8B's shapes")
struct QuantizeEstimateTests {
    static func llama8B(layers: Int = 32) throws -> LlamaConfiguration {
        let object: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
            "num_hidden_layers": layers, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
            "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": false,
            "torch_dtype": "bfloat16",
        ]
        return try LlamaConfiguration(json: try JSONSerialization.data(withJSONObject: object), file: "config.json")
    }

    /// Rates only set the seconds; the base is what a QuantGate process holds before any model work.
    static let rates = MachineRates(gemmGFLOPS: 140, factorGFLOPS: 20, secondsPerParameter: 2e-9, baseResidentBytes: 60_000_000)
    /// The 8B embedding matrix in bf16: the checkpoint's largest tensor.
    static let source = QuantizeEstimate.Source(largestTensorBytes: 128256 * 4096 * 2)
    static let windows = [Int](repeating: 512, count: 8)

    func peak(_ estimate: RunEstimate, _ stage: String) throws -> Double {
        Double(try #require(estimate.stages.first { $0.name == stage }).peakRSSBytes) / 1e9
    }

    func expectNear(_ estimated: Double, measured: Double, _ what: String) {
        #expect(abs(estimated / measured - 1) <= 0.35, "\(what): estimated \(estimated) GB, measured \(measured) GB")
    }

    @Test("check, GGUF without an importance matrix, FP8's write and GPTQ within 35 % of the measured peaks")
    func quantizePeaks() throws {
        let c = try Self.llama8B()
        let gguf = QuantizeEstimate.run(.gguf(.q4_K_M, calibrates: false), configuration: c, source: Self.source, windows: [], rates: Self.rates)
        expectNear(try peak(gguf, "check"), measured: 1.07, "check (inspect's scan)")
        expectNear(try peak(gguf, "quantize"), measured: 3.23, "quantize --target cpu --no-imatrix")
        #expect(gguf.stages.map(\.name) == ["check", "quantize"])
        let fp8 = QuantizeEstimate.run(.fp8(calibrates: true), configuration: c, source: Self.source, windows: Self.windows, rates: Self.rates)
        #expect(fp8.stages.map(\.name) == ["check", "calibrate", "write"])
        expectNear(try peak(fp8, "write"), measured: 2.25, "quantize --target h100, write")
        expectNear(try peak(fp8, "calibrate"), measured: 1.17, "quantize --target h100, calibrate")
        let gptq = QuantizeEstimate.run(.gptq(GPTQSolverSettings(), trueSequential: true), configuration: c, source: Self.source,
                                        windows: Self.windows, rates: Self.rates)
        #expect(gptq.stages.map(\.name) == ["check", "gptq", "write"])
        expectNear(try peak(gptq, "gptq"), measured: 5.56, "quantize --target a100, gptq")
        for estimate in [gguf, fp8, gptq] { #expect(estimate.peakRSSBytes <= 8_000_000_000) }
    }

    @Test("eval of 2,048 tokens (llama.cpp protocol, streamed, layer-major) within 35 % of the measured peak")
    func evalPeak() throws {
        let c = try Self.llama8B()
        #expect(!LlamaModel.keepsResident(c))
        let windows = (0..<4).map { _ in ScoringWindow(tokens: [Int](repeating: 1, count: 512), firstScored: 256) }
        let estimate = PerplexityRun.estimate(windows: windows, configuration: c, largestTensorBytes: Self.source.largestTensorBytes,
                                              rates: Self.rates)
        #expect(estimate.stages.map(\.name) == ["check", "perplexity"])
        expectNear(try peak(estimate, "perplexity"), measured: 1.20, "eval --protocol llama.cpp")
    }

    @Test("calibrate with Hessians on the 3-layer cut within 35 % of the measured peak")
    func calibratePeak() throws {
        let preflight = Preflight.estimate(configuration: try Self.llama8B(layers: 3), windows: Self.windows, hessian: true,
                                           sequential: false, resident: false, forwardTokensPerSecond: 100)
        expectNear(Double(preflight.peakBytes + Int(Self.rates.baseResidentBytes)) / 1e9, measured: 5.19, "calibrate 8 × 512")
    }

    @Test("seconds follow the rates (twice the GEMM speed, between half and all the time); AWQ's searches cost over 10 forwards")
    func seconds() throws {
        let c = try Self.llama8B()
        var faster = Self.rates
        faster.gemmGFLOPS *= 2
        let method = QuantizeEstimate.Method.awq(AWQSettings())
        let slow = QuantizeEstimate.run(method, configuration: c, source: Self.source, windows: Self.windows, rates: Self.rates)
        let fast = QuantizeEstimate.run(method, configuration: c, source: Self.source, windows: Self.windows, rates: faster)
        #expect(fast.seconds < slow.seconds && fast.seconds > slow.seconds / 2 - 1e-9)
        // AWQ's α search is 20 runs of each scaling group's inspected module over every window: far more than one forward.
        let forward = QuantizeEstimate.run(.fp8(calibrates: true), configuration: c, source: Self.source, windows: Self.windows, rates: Self.rates)
        let calibrate = try #require(forward.stages.first { $0.name == "calibrate" }).seconds
        #expect(try #require(slow.stages.first { $0.name == "awq" }).seconds > 10 * calibrate)
    }
}

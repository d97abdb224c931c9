import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// Checkpoint → GPTQ (sequential, true-sequential) → directory → reader: every Linear reads back as the
/// solver produced it, copies are byte for byte, the config says what was done.
@Suite("GPTQ export")
struct GPTQExportTests {
    static let tiny = Fixtures.root.appendingPathComponent("tiny-llama-linear").path

    static func config(format: GPTQQuantizationConfig.CheckpointFormat = .gptq, symmetric: Bool = true) -> GPTQQuantizationConfig {
        GPTQQuantizationConfig(bits: 4, groupSize: 16, descAct: true, symmetric: symmetric, dampPercent: 0.01, trueSequential: true,
                               staticGroups: false, checkpointFormat: format)
    }

    /// GPTQ of the tiny model on a few windows; the quantizer's entries (what it handed on, in order) and the
    /// directory written from them through a spool beside it.
    static func quantize(to out: String, trueSequential: Bool = true, symmetric: Bool = true,
                         format: GPTQQuantizationConfig.CheckpointFormat = .gptq) throws -> ([GPTQBlockQuantizer.Entry], GPTQExportSummary) {
        let directory = try ModelDirectory(path: tiny)
        let config = config(format: format, symmetric: symmetric)
        let plan = try GPTQExporter.plan(directory: directory, config: config)
        let calibrator = Calibrator(model: try LlamaModel(directory: directory), collectHessian: true)
        let settings = GPTQSolverSettings(groupSize: 16, activationOrder: .group, symmetric: symmetric,
                                          zeroFloor: format == .gptq && !symmetric ? 1 : 0)
        let spool = try TensorSpool(directory: (out as NSString).deletingLastPathComponent)
        var entries: [GPTQBlockQuantizer.Entry] = []
        var modules: [String: GPTQExportModule] = [:]
        let quantizer = GPTQBlockQuantizer(model: calibrator.model, settings: settings, trueSequential: trueSequential) {
            entries.append($0)
            modules[$0.module] = try GPTQExporter.module($0.module, $0.result, config: config, spool: spool)
        }
        var rng = SplitMix64(seed: 3)
        let windows = (0..<3).map { _ in (0..<24).map { _ in Int(rng.next() % 4096) } }
        try calibrator.run(windows: windows, quantizer: quantizer) { _ in }
        let summary = try GPTQExporter.write(plan, config: config, modules: modules, method: "gptq", scaleFitting: "sweep",
                                             provenance: ["quantgate.target": "a100"], maxShardBytes: 5_000_000_000, to: out, replace: false)
        return (entries, summary)
    }

    @Test("sequential GPTQ: the directory reads back as the solver's codes, scales, zeros and g_idx; other tensors copied")
    func roundTrip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("gptq").path
        let (entries, summary) = try Self.quantize(to: out)
        #expect(entries.count == 14 && summary.report.layers.count == 14)
        #expect(Set(summary.files).isSuperset(of: ["config.json", "model.safetensors", "quantize_config.json", "quantization_report.json"]))
        let checkpoint = try GPTQCheckpoint(directory: out)
        #expect(checkpoint.config == Self.config())
        #expect(Set(checkpoint.quantizedModules) == Set(entries.map(\.module)))
        for entry in entries {
            #expect(try checkpoint.unpack(module: entry.module) == entry.result.linear, "\(entry.module)")
            #expect(try checkpoint.floats(entry.module + ".weight").values == entry.result.linear.dequantized())
        }
        let qweight = try #require(checkpoint.checkpoint.tensors.first { $0.name == "model.layers.0.mlp.down_proj.qweight" })
        #expect(qweight.dtype == .int32 && qweight.shape == [128 / 8, 64])
        let scales = try #require(checkpoint.checkpoint.tensors.first { $0.name == "model.layers.0.mlp.down_proj.scales" })
        #expect(scales.dtype == .float16 && scales.shape == [8, 64])
        let source = try SafetensorsCheckpoint(path: Self.tiny)
        for tensor in source.tensors where !checkpoint.isQuantized(weight: tensor.name) {
            let (info, file) = try #require(checkpoint.checkpoint.locate(tensor.name))
            let original = try #require(source.locate(tensor.name))
            #expect(file.withBytes(of: info) { Array($0) } == original.file.withBytes(of: original.tensor) { Array($0) }, "\(tensor.name)")
        }
        // Act-order groups follow the sweep: some g_idx is not i / 16.
        #expect(entries.contains { $0.result.linear.groupIndex != (0..<$0.result.linear.columns).map { Int32($0 / 16) } })
        #expect(checkpoint.metadata["quantgate.target"] == "a100" && checkpoint.metadata["format"] == "pt")
        let config = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        #expect(config.contains("\"quant_method\": \"gptq\"") && config.contains("\"checkpoint_format\": \"gptq\""))
    }

    @Test("true-sequential and one-pass orders both run; the quantized blocks feed the next block (its Hessians differ from the float model's)")
    func orders() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (sequential, _) = try Self.quantize(to: directory.appendingPathComponent("a").path)
        let (onePass, _) = try Self.quantize(to: directory.appendingPathComponent("b").path, trueSequential: false)
        func linear(_ q: [GPTQBlockQuantizer.Entry], _ m: String) -> GroupQuantizedLinear? { q.first { $0.module == m }?.result.linear }
        // q/k/v see the same inputs either way; o_proj sees quantized q/k/v only with true-sequential.
        #expect(linear(sequential, "model.layers.0.self_attn.q_proj") == linear(onePass, "model.layers.0.self_attn.q_proj"))
        #expect(linear(sequential, "model.layers.0.self_attn.o_proj") != linear(onePass, "model.layers.0.self_attn.o_proj"))
    }

    @Test("asymmetric v1 keeps every zero ≥ 1 (storable); v2 stores zeros as they are; the reader checks layouts")
    func formatsAndErrors() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let v1 = directory.appendingPathComponent("v1").path, v2 = directory.appendingPathComponent("v2").path
        let (asymmetric, _) = try Self.quantize(to: v1, symmetric: false)
        #expect(asymmetric.allSatisfy { $0.result.linear.zeros.allSatisfy { $0 >= 1 && $0 <= 15 } })
        let read = try GPTQCheckpoint(directory: v1)
        for entry in asymmetric { #expect(try read.unpack(module: entry.module) == entry.result.linear) }
        let (second, _) = try Self.quantize(to: v2, symmetric: false, format: .gptqV2)
        let readV2 = try GPTQCheckpoint(directory: v2)
        #expect(readV2.config.checkpointFormat == .gptqV2)
        for entry in second { #expect(try readV2.unpack(module: entry.module) == entry.result.linear) }

        // A config the reader refuses, naming the field.
        let path = directory.appendingPathComponent("v2/config.json").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"bits\": 4", with: "\"bits\": 3").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: QuantizedCheckpointError.self) { try GPTQCheckpoint(directory: v2) }
        do { _ = try GPTQCheckpoint(directory: v2) } catch { #expect("\(error)".contains("quantization_config.bits")) }
        // Refusals before any work: an existing quantization, a group wider than the Linears.
        #expect(throws: QuantizedCheckpointError.self) {
            try GPTQExporter.plan(directory: ModelDirectory(path: v1), config: Self.config())
        }
        var wide = Self.config()
        wide.groupSize = 256
        #expect(throws: GPTQError.badGroupSize(module: "model.layers.0.mlp.down_proj", groupSize: 256, columns: 128)) {
            try GPTQExporter.plan(directory: ModelDirectory(path: Self.tiny), config: wide)
        }
    }
}

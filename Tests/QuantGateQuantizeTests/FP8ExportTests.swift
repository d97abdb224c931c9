import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateOutput
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// Checkpoint → FP8 compressed-tensors directory → reader: codes, scales, layout, config, ignore
/// lists, sharding, and the refusals (non-finite weights, split fused groups, an existing output).
@Suite("FP8 export")
struct FP8ExportTests {
    static let bard = Fixtures.exampleModel.path
    static let tiny = Fixtures.root.appendingPathComponent("tiny-llama-linear").path

    /// Every Linear module of `model` with the same activation maximum.
    static func maxima(_ model: String, _ value: Float = 2.5) throws -> [String: Float] {
        let directory = try ModelDirectory(path: model)
        return Dictionary(uniqueKeysWithValues: directory.checkpoint.tensors.filter(FP8Exporter.isLinearWeight)
            .map { (String($0.name.dropLast(".weight".count)), value) })
    }

    @discardableResult
    static func export(_ model: String, to out: String, scheme: FP8Scheme = FP8Scheme(), ignore: [String] = [],
                       maxima: [String: Float]? = nil, shard: Int = 5_000_000_000, replace: Bool = false) throws -> FP8ExportSummary {
        try FP8Exporter.export(directory: ModelDirectory(path: model), scheme: scheme,
                               ignore: ignore.map(ModulePattern.init),
                               activationMaxima: try maxima ?? Self.maxima(model), metadata: ["quantgate.target": "h100"],
                               maxShardBytes: shard, to: out, replace: replace)
    }

    @Test("bf16 model, channel scales, static inputs: codes, scales and copies read back exactly")
    func channelStaticRoundTrip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        let summary = try Self.export(Self.bard, to: out)
        #expect(summary.modules.count == 28 && summary.ignored == ["lm_head"])
        #expect(Set(summary.files) == ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])

        let source = try ModelDirectory(path: Self.bard).checkpoint
        let fp8 = try FP8Checkpoint(directory: out)
        #expect(fp8.config.scheme == FP8Scheme(weights: .channel, activations: .static) && fp8.config.ignore == ["lm_head"])
        #expect(fp8.metadata["format"] == "pt" && fp8.metadata["quantgate.target"] == "h100")
        #expect(fp8.quantizedModules.count == 28)
        for module in fp8.quantizedModules {
            let weight = try source.floats(named: module + ".weight")
            let (shape, codes) = try fp8.codes(ofWeight: module + ".weight")
            let scales = try fp8.weightScales(module: module)
            #expect(fp8.checkpoint.locate(module + ".weight_scale")?.tensor.dtype == .bfloat16)
            #expect(fp8.checkpoint.locate(module + ".weight_scale")?.tensor.shape == [shape[0], 1])
            for row in 0..<shape[0] {
                let amax = weight[(row * shape[1])..<((row + 1) * shape[1])].map(abs).max()!
                #expect(scales[row] == FP8Quantizer.round(amax / 448, to: .bfloat16), "\(module) row \(row)")
            }
            // Independently of the kernels: the f32 quotient rounded to bf16, +0, then the E4M3 cast.
            let expected = weight.enumerated().map { index, w -> Float in
                let bits = (w / scales[index / shape[1]]).bitPattern
                return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000) + 0
            }
            #expect(codes == Float32Conversion.encode(expected, as: .float8E4M3), "\(module) codes")
            let (_, values) = try fp8.floats(module + ".weight")
            var decoded = [Float](repeating: 0, count: codes.count)
            codes.withUnsafeBytes { decoded = Float32Conversion.decode($0, as: .float8E4M3) }
            #expect(values == decoded.enumerated().map { $0.element * scales[$0.offset / shape[1]] })
            #expect(try fp8.inputScale(module: module) == FP8Quantizer.round(2.5 / 448, to: .bfloat16))
        }
        for tensor in source.tensors where !fp8.quantizedModules.contains(String(tensor.name.dropLast(".weight".count))) {
            let (copy, file) = try #require(fp8.checkpoint.locate(tensor.name))
            let (original, sourceFile) = try #require(source.locate(tensor.name))
            #expect(copy.dtype == original.dtype && copy.shape == original.shape)
            #expect(file.withBytes(of: copy) { Array($0) } == sourceFile.withBytes(of: original) { Array($0) }, "\(tensor.name) copied")
        }
        // config.json: the source's members unchanged, quantization_config added.
        let config = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/config.json")))
        let original = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: Self.bard + "/config.json")))
        for (key, value) in original.object! { #expect(config.object?[key] == value, "\(key)") }
        #expect(config["quantization_config"] == FP8QuantizationConfig(scheme: FP8Scheme(), ignore: ["lm_head"]).json)
    }

    @Test("the same checkpoint and settings give byte-identical directories")
    func deterministic() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b) = (directory.appendingPathComponent("a").path, directory.appendingPathComponent("b").path)
        try Self.export(Self.bard, to: a)
        try Self.export(Self.bard, to: b)
        for name in ["model.safetensors", "config.json", "tokenizer.json"] {
            #expect(FileManager.default.contentsEqual(atPath: a + "/" + name, andPath: b + "/" + name), "\(name)")
        }
    }

    @Test("f32 model with biases, tensor scales, dynamic inputs: f32 scales of shape [1], no input_scale")
    func tensorDynamic() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        try Self.export(Self.tiny, to: out, scheme: FP8Scheme(weights: .tensor, activations: .dynamic), maxima: [:])
        let fp8 = try FP8Checkpoint(directory: out)
        #expect(fp8.config.scheme == FP8Scheme(weights: .tensor, activations: .dynamic))
        let source = try ModelDirectory(path: Self.tiny).checkpoint
        for module in fp8.quantizedModules {
            let scale = try #require(fp8.checkpoint.locate(module + ".weight_scale")?.tensor)
            #expect(scale.dtype == .float32 && scale.shape == [1])
            #expect(fp8.checkpoint.locate(module + ".input_scale") == nil)
            let amax = try source.floats(named: module + ".weight").map(abs).max()!
            #expect(try fp8.weightScales(module: module) == [amax / 448])
        }
        #expect(fp8.checkpoint.locate("model.layers.0.mlp.down_proj.bias")?.tensor.dtype == .float32)
        #expect(!fp8.quantizedModules.contains("lm_head"))
    }

    @Test("--ignore leaves whole layers in the source dtype and lists them; a split q/k/v group is refused")
    func ignoreLists() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        try Self.export(Self.bard, to: out, ignore: ["model.layers.0.*", "re:.*\\.3\\.mlp\\.down_proj"])
        let fp8 = try FP8Checkpoint(directory: out)
        #expect(fp8.config.ignore == ["lm_head", "model.layers.0.mlp.down_proj", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj",
                                      "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.o_proj", "model.layers.0.self_attn.q_proj",
                                      "model.layers.0.self_attn.v_proj", "model.layers.3.mlp.down_proj"])
        #expect(fp8.quantizedModules.count == 28 - 8)
        #expect(fp8.checkpoint.locate("model.layers.0.self_attn.q_proj.weight")?.tensor.dtype == .bfloat16)
        #expect(fp8.config.ignores(module: "model.layers.3.mlp.down_proj"))

        let split = directory.appendingPathComponent("split").path
        #expect(throws: FP8QuantizationError.self) { try Self.export(Self.bard, to: split, ignore: ["*.k_proj"]) }
        #expect(!FileManager.default.fileExists(atPath: split))
        #expect(throws: FP8QuantizationError.missingActivationStatistics(module: "model.layers.0.mlp.down_proj")) {
            try Self.export(Self.bard, to: split, maxima: [:])
        }
        #expect(throws: FP8QuantizationError.unmatchedIgnore(pattern: "model.layer.0.*")) {
            try Self.export(Self.bard, to: split, ignore: ["model.layer.0.*"])
        }
        // A written ignore list is matched as vLLM matches it: exact names, `re:` anchored at the start only.
        let config = FP8QuantizationConfig(scheme: FP8Scheme(), ignore: ["lm_head", "re:model\\.layers\\.1\\."])
        #expect(config.ignores(module: "model.layers.1.mlp.up_proj") && config.ignores(module: "lm_head"))
        #expect(!config.ignores(module: "model.layers.2.mlp.up_proj") && !config.ignores(module: "lm_head.extra"))
    }

    @Test("sharding: greedy shards, an index, and a reader that sees one checkpoint")
    func sharding() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        let summary = try Self.export(Self.bard, to: out, shard: 1_000_000)
        let shards = summary.files.filter { $0.hasSuffix(".safetensors") }
        #expect(shards.count > 3 && shards.first == String(format: "model-00001-of-%05d.safetensors", shards.count))
        #expect(summary.files.contains(SafetensorsCheckpoint.indexFileName))
        let index = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/" + SafetensorsCheckpoint.indexFileName)))
        let fp8 = try FP8Checkpoint(directory: out)
        #expect(index["weight_map"]?.object?.count == fp8.checkpoint.tensors.count)
        #expect(index["metadata"]?["total_size"]?.int == fp8.checkpoint.tensors.reduce(0) { $0 + $1.byteCount })
        for file in fp8.checkpoint.files where file.tensors.count > 1 {
            #expect(file.tensors.reduce(0) { $0 + $1.byteCount } <= 1_000_000, "only a tensor beyond the limit has a shard over it")
        }
        let single = directory.appendingPathComponent("single").path
        try Self.export(Self.bard, to: single)
        let whole = try FP8Checkpoint(directory: single)
        for module in whole.quantizedModules { #expect(try fp8.floats(module + ".weight").values == whole.floats(module + ".weight").values) }
        #expect(ShardedSafetensorsWriter.parseSize("5GB") == 5_000_000_000 && ShardedSafetensorsWriter.parseSize("2GiB") == 2_147_483_648)
        #expect(ShardedSafetensorsWriter.parseSize("lots") == nil && ShardedSafetensorsWriter.parseSize("0MB") == nil)
    }

    /// A copy of the tiny fixture with `edit` applied to one f32 tensor's values.
    static func damagedCopy(in directory: URL, tensor target: String, edit: (inout [Float]) -> Void) throws -> String {
        let copy = directory.appendingPathComponent("damaged")
        try FileManager.default.copyItem(atPath: Self.tiny, toPath: copy.path)
        let file = try SafetensorsFile(path: Self.tiny + "/model.safetensors")
        var pending: [PendingTensor] = []
        for tensor in file.tensors {
            var bytes = file.withBytes(of: tensor) { Array($0) }
            if tensor.name == target {
                var values = try file.floats(named: target)
                edit(&values)
                bytes = values.withUnsafeBytes { Array($0) }
            }
            pending.append(PendingTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, data: bytes))
        }
        try SafetensorsWriter.write(pending, metadata: ["format": "pt"], to: copy.appendingPathComponent("model.safetensors").path, replace: true)
        return copy.path
    }

    @Test("a NaN or Inf weight is refused naming the tensor, and nothing is written", arguments: [Float.nan, .infinity])
    func nonFiniteRefused(bad: Float) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["model.layers.1.mlp.up_proj.weight", "model.layers.0.input_layernorm.weight"] {
            let model = try Self.damagedCopy(in: directory, tensor: name) { $0[37] = bad }
            let out = directory.appendingPathComponent("fp8").path
            do {
                try Self.export(model, to: out)
                Issue.record("a non-finite weight in \(name) was quantized")
            } catch let error as FP8QuantizationError {
                // A quantized Linear's weight: refused by its scales' max |w| pass.
                guard case .nonFinite(let tensor, let index, _) = error else { Issue.record("\(error)"); continue }
                #expect(tensor == name && index == 37)
                #expect(error.description.contains(name))
            } catch let error as ModelError {
                // A tensor copied as stored: refused by the shared finite scan.
                guard case .nonFiniteWeight(_, let tensor, let index, _) = error else { Issue.record("\(error)"); continue }
                #expect(tensor == name && index == 37)
            }
            #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))
            try FileManager.default.removeItem(atPath: model)
        }
    }

    @Test("a zero scale becomes the dtype's epsilon, as compressed-tensors does; an existing output needs replace")
    func zeroRowsAndExistingOutput() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.damagedCopy(in: directory, tensor: "model.layers.0.self_attn.o_proj.weight") { values in
            for i in 0..<64 { values[i] = 0 }  // row 0 of [64, 64]
        }
        let out = directory.appendingPathComponent("fp8").path
        try Self.export(model, to: out, maxima: try Self.maxima(model, 0))
        let fp8 = try FP8Checkpoint(directory: out)
        let scales = try fp8.weightScales(module: "model.layers.0.self_attn.o_proj")
        #expect(scales[0] == Float.ulpOfOne && scales[1...].allSatisfy { $0 > 0 && $0 < 1 }, "f32 model: eps 2⁻²³")
        #expect(try fp8.codes(ofWeight: "model.layers.0.self_attn.o_proj.weight").codes[0..<64].allSatisfy { $0 == 0 })
        #expect(try fp8.inputScale(module: "model.layers.0.self_attn.o_proj") == Float.ulpOfOne, "an input that never fired")
        #expect(FP8Quantizer.scale(amax: 1e-44, storage: .float16) == 0x1p-10 && FP8Quantizer.scale(amax: 0, storage: .bfloat16) == 0x1p-7)
        #expect(FP8Quantizer.scale(amax: 1e9, storage: .float16) == nil)

        #expect(throws: OutputError.self) { try Self.export(model, to: out) }
        try Self.export(model, to: out, scheme: FP8Scheme(weights: .tensor, activations: .dynamic), replace: true)
        #expect(try FP8Checkpoint(directory: out).config.scheme.activations == .dynamic)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("fp8.") }
        #expect(leftovers.isEmpty, "no .partial or moved-aside directory left: \(leftovers)")
    }
}

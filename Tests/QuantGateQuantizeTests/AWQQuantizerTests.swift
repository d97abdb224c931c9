import Foundation
@testable import QuantGateQuantize
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// AWQ's behaviour on whole blocks and models: scaling is exact in float, the GQA rule, AWQ beating round to
/// nearest, and the exported directory reading back as the quantizer's grid.
@Suite("AWQ quantizer and export")
struct AWQQuantizerTests {
    static let tiny = Fixtures.root.appendingPathComponent("tiny-llama-linear").path

    /// Random weights for every tensor `configuration` expects (norms around 1).
    struct RandomWeights: WeightSource {
        let shapes: [String: [Int]]
        func weight(_ name: String) throws -> (shape: [Int], values: [Float]) {
            let shape = shapes[name]!
            var rng = SplitMix64(seed: UInt64(name.utf8.reduce(7) { $0 &* 31 &+ Int($1) }.magnitude))
            let values = (0..<shape.reduce(1, *)).map { _ in Float(Double(rng.next() % 2001) / 1000 - 1) * (name.hasSuffix("norm.weight") ? 0.5 : 0.2) }
            return (shape, name.hasSuffix("norm.weight") ? values.map { 1 + $0 } : values)
        }
    }

    /// tiny-llama-linear's config with as many key/value heads as query heads (so v → o is scaled).
    static func fullAttentionModel() throws -> LlamaModel {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tiny + "/config.json"))) as! [String: Any]
        object["num_key_value_heads"] = object["num_attention_heads"]
        object["attention_bias"] = true
        object["mlp_bias"] = true
        let c = try LlamaConfiguration(json: try JSONSerialization.data(withJSONObject: object), file: "config.json")
        return try LlamaModel(configuration: c, source: RandomWeights(shapes: Dictionary(c.expectedTensors.map { ($0.name, $0.shape) }) { a, _ in a }))
    }

    @Test("each scaling group's scales (previous op ÷ s, Linear columns × s) leave the block's output unchanged in float")
    func scalingIsExact() throws {
        let model = try Self.fullAttentionModel()
        let c = model.configuration
        #expect(AWQScalingGroup.llama.allSatisfy { $0.applies(to: c) }, "v → o applies without grouped-query attention")
        let weights = try model.blockWeights(0)
        var hidden = try model.embed([5, 90, 1000, 7, 7, 3, 2500, 11])
        let input = hidden
        model.runBlock(weights: weights, hidden: &hidden)
        var scaled = weights
        var rng = SplitMix64(seed: 11)
        for group in AWQScalingGroup.llama {
            group.apply((0..<group.point.width(c)).map { _ in Float(0.25 + Double(rng.next() % 1000) / 250) }, to: &scaled)
        }
        #expect(scaled.v != weights.v && scaled.vBias != weights.vBias && scaled.inputNorm != weights.inputNorm)
        #expect(scaled.up != weights.up && scaled.upBias != weights.upBias && scaled.postAttentionNorm != weights.postAttentionNorm)
        var again = input
        model.runBlock(weights: scaled, hidden: &again)
        let worst = zip(hidden.values, again.values).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest difference \(worst)")
    }

    @Test("grouped-query attention (v_proj narrower than o_proj) skips the v → o group, as AutoAWQ does")
    func groupedQueryAttention() throws {
        let c = try ModelDirectory(path: Self.tiny).configuration
        #expect(c.kvHeadCount < c.headCount)
        #expect(AWQScalingGroup.llama.map { $0.applies(to: c) } == [true, false, true, true])
    }

    /// AWQ (or RTN) of `model` on a few windows, with the calibrator as `quantize` runs it.
    /// Every block's result, in the order the quantizer handed them on.
    static func quantize(_ model: LlamaModel, settings: AWQSettings, windows: [[Int]]) throws -> [AWQBlockResult] {
        let calibrator = Calibrator(model: model, collectHessian: false)
        var blocks: [AWQBlockResult] = []
        let quantizer = AWQBlockQuantizer(model: calibrator.model, settings: settings) { blocks.append($0) }
        try calibrator.run(windows: windows, quantizer: quantizer) { _ in }
        return blocks
    }

    static func windows(_ count: Int, length: Int, seed: UInt64) -> [[Int]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<length).map { _ in Int(rng.next() % 4096) } }
    }

    @Test("the next block's inputs are the float model's outputs (AutoAWQ propagates full-precision activations)")
    func fullPrecisionPropagation() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Self.tiny))
        let windows = Self.windows(2, length: 16, seed: 8)
        let inputs = try windows.map { try model.embed($0) }
        let quantizer = AWQBlockQuantizer(model: model, settings: AWQSettings(groupSize: 32)) { _ in }
        let statistics = BlockStatistics(layer: 0, inputs: [], output: ChannelStatistics(tokens: 0, meanAbs: [], maxAbs: [], meanSquare: []))
        #expect(try quantizer.quantize(layer: 0, weights: model.blockWeights(0), statistics: statistics, inputs: inputs) == nil)
        let outputs = try #require(quantizer.takeOutputs())
        for (input, output) in zip(inputs, outputs) {
            var expected = input
            try model.runBlock(0, hidden: &expected)
            #expect(output.values == expected.values)
        }
        #expect(quantizer.takeOutputs() == nil, "taken once")
    }

    @Test("AWQ's logits are closer to the float model's than round to nearest's on the same grid, on held-out windows")
    func beatsRoundToNearest() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Self.tiny))
        let settings = AWQSettings(groupSize: 32)
        let awq = try Self.quantize(model, settings: settings, windows: Self.windows(6, length: 32, seed: 5))
        #expect(awq.count == 2 && awq.allSatisfy { $0.linears.count == 7 })
        #expect(awq.flatMap(\.groups).filter { $0.ratio != nil }.count == 6, "q/k/v, gate/up, down scaled in both blocks")
        let rtn = try (0..<2).map { try AWQBlockQuantizer.roundToNearest(layer: $0, weights: model.blockWeights($0), configuration: model.configuration, groupSize: 32) }
        func error(_ blocks: [AWQBlockResult]) throws -> Double {
            var total = 0.0
            for window in Self.windows(4, length: 32, seed: 99) {
                var exact = try model.embed(window), quantized = exact
                for (layer, block) in blocks.enumerated() {
                    try model.runBlock(layer, hidden: &exact)
                    var w = try model.blockWeights(layer)
                    (w.inputNorm, w.postAttentionNorm) = (block.inputNorm, block.postAttentionNorm)
                    for linear in block.linears {
                        let stem = linear.module.split(separator: ".").suffix(2).joined(separator: ".")
                        let keyPath = AWQScalingGroup.llama.flatMap(\.linears).first { $0.stem == stem }!
                        w[keyPath: keyPath.weight] = linear.linear.dequantized()
                        w[keyPath: keyPath.bias] = linear.bias
                    }
                    model.runBlock(weights: w, hidden: &quantized)
                }
                let (a, b) = (try model.logits(hidden: exact).values, try model.logits(hidden: quantized).values)
                total += zip(a, b).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            }
            return total
        }
        let (awqError, rtnError) = (try error(awq), try error(rtn))
        #expect(awqError < rtnError, "AWQ \(awqError) vs RTN \(rtnError)")
    }

    @Test("the exported directory reads back as the quantizer's codes, zeros, f16 scales, scaled norms and biases; the rest is copied")
    func exportRoundTrip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try ModelDirectory(path: Self.tiny)
        let settings = AWQSettings(groupSize: 32)
        let config = AWQQuantizationConfig(groupSize: 32)
        let plan = try AWQExporter.plan(directory: source, config: config)
        #expect(plan.modules.count == 14)
        let blocks = try Self.quantize(try LlamaModel(directory: source), settings: settings, windows: Self.windows(3, length: 24, seed: 3))
        let spool = try TensorSpool(directory: directory.path)
        let out = directory.appendingPathComponent("awq").path
        let summary = try AWQExporter.write(plan, config: config, blocks: blocks.map { try AWQExporter.block($0, spool: spool) }, settings: settings,
                                            provenance: ["quantgate.target": "l40s"], maxShardBytes: 5_000_000_000, to: out, replace: false)
        #expect(summary.report.layers.count == 14 && summary.report.groups.count == 8)
        let checkpoint = try AWQCheckpoint(directory: out)
        #expect(try checkpoint.config == AWQQuantizationConfig(json: config.json, file: "config.json") && checkpoint.config.groupSize == 32)
        for block in blocks {
            for linear in block.linears {
                let read = try checkpoint.unpack(module: linear.module)
                #expect(read == linear.linear, "\(linear.module)")
                if let bias = linear.bias {
                    #expect(try checkpoint.floats(linear.module + ".bias").values == bias.map { Float(Float16($0)) })
                }
            }
            #expect(try checkpoint.floats("model.layers.\(block.layer).input_layernorm.weight").values == block.inputNorm)
            #expect(try checkpoint.floats("model.layers.\(block.layer).post_attention_layernorm.weight").values == block.postAttentionNorm)
        }
        for name in ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"] {
            let (a, b) = (source.checkpoint.locate(name)!, checkpoint.checkpoint.locate(name)!)
            #expect(a.file.withBytes(of: a.tensor) { Array($0) } == b.file.withBytes(of: b.tensor) { Array($0) }, "\(name) copied")
        }
        let text = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        for key in ["\"quant_method\": \"awq\"", "\"zero_point\": true", "\"version\": \"gemm\"", "\"modules_to_not_convert\": null", "\"bits\": 4"] {
            #expect(text.contains(key), "config.json lacks \(key)")
        }
        // A group size that does not divide a Linear's inputs is refused before calibrating.
        #expect(throws: AWQError.self) { try AWQExporter.plan(directory: source, config: AWQQuantizationConfig(groupSize: 48)) }
    }

    @Test("quantization_config: loaders' spellings are read, other layouts and bit widths refused naming the field")
    func config() throws {
        let legacy: JSONValue = .object(["quant_method": .string("awq"), "w_bit": .number(4), "q_group_size": .number(64),
                                         "zero_point": .bool(true), "version": .string("GEMM")])
        #expect(try AWQQuantizationConfig(json: legacy, file: "c").groupSize == 64)
        for (field, value) in [("version", JSONValue.string("gemv")), ("bits", .number(8)), ("zero_point", .bool(false))] {
            guard case .object(var object) = legacy else { return }
            object[field == "bits" ? "w_bit" : field] = value
            #expect { try AWQQuantizationConfig(json: .object(object), file: "c") } throws: { error in
                "\(error)".contains("quantization_config.\(field)")
            }
        }
    }

    @Test("the reader refuses a broken layout naming the tensor: wrong dtype or shape, orphans, a weight beside its qweight")
    func readerRefusals() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = "{\"model_type\": \"llama\", \"quantization_config\": " + PythonJSON.render(AWQQuantizationConfig(groupSize: 32).json, indent: 0) + "}"
        func tensor(_ name: String, _ dtype: DType, _ shape: [Int]) -> PendingTensor {
            PendingTensor(name: name, dtype: dtype, shape: shape, data: [UInt8](repeating: 0, count: shape.reduce(1, *) * dtype.byteSize))
        }
        let m = "model.layers.0.mlp.down_proj"
        let good = [tensor(m + ".qweight", .int32, [64, 2]), tensor(m + ".qzeros", .int32, [2, 2]), tensor(m + ".scales", .float16, [2, 16])]
        let cases: [(String, [PendingTensor], String)] = [
            ("good", good, ""),
            ("dtype", [tensor(m + ".qweight", .float32, [64, 2])] + good.dropFirst(), m + ".qweight"),
            ("zeros", [good[0], tensor(m + ".qzeros", .int32, [2, 4]), good[2]], m + ".qzeros"),
            ("scales", [good[0], good[1], tensor(m + ".scales", .float16, [16, 2])], m + ".scales"),
            ("group", [tensor(m + ".qweight", .int32, [48, 2]), tensor(m + ".qzeros", .int32, [1, 2]), tensor(m + ".scales", .float16, [1, 16])], m + ".qweight"),
            ("orphan", good + [tensor("model.layers.1.mlp.up_proj.qzeros", .int32, [2, 2])], "model.layers.1.mlp.up_proj.qzeros"),
            ("beside", good + [tensor(m + ".weight", .float16, [16, 64])], m + ".weight"),
        ]
        for (name, tensors, culprit) in cases {
            let dir = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
            try SafetensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors").path)
            #expect(AWQCheckpoint.isAWQ(directory: dir.path))
            if culprit.isEmpty {
                #expect(try AWQCheckpoint(directory: dir.path).shapes[m] == [16, 64])
            } else {
                #expect(throws: QuantizedCheckpointError.self, "\(name)") { try AWQCheckpoint(directory: dir.path) }
                do { _ = try AWQCheckpoint(directory: dir.path) } catch { #expect("\(error)".contains(culprit), "\(name): \(error)") }
            }
        }
    }
}

import Foundation
import QuantGateModel
import QuantGateSafetensors
import QuantGateTestSupport
import Testing

@Suite("config.json and the model directory")
struct LlamaConfigurationTests {
    static func config(_ json: String) throws -> LlamaConfiguration {
        try LlamaConfiguration(json: Data(json.utf8), file: "config.json")
    }

    static let base = #""hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "intermediate_size": 14336, "vocab_size": 128256"#

    @Test("the example model's config (transformers 5: rope_theta inside rope_parameters)")
    func exampleModel() throws {
        let c = try LlamaConfiguration(contentsOf: Fixtures.exampleModel.appendingPathComponent("config.json").path)
        #expect(c.family == .llama)
        #expect(c.hiddenSize == 256 && c.layerCount == 4 && c.headCount == 8 && c.kvHeadCount == 4 && c.headDim == 32)
        #expect(c.intermediateSize == 768 && c.vocabSize == 4096 && c.maxPositionEmbeddings == 512)
        #expect(c.rmsNormEps == 1e-5 && c.ropeTheta == 10_000 && c.ropeScaling == .none)
        #expect(!c.tieWordEmbeddings && !c.attentionBias)
    }

    @Test("Llama 3.1 style: top-level rope_theta, llama3 rope_scaling, explicit kv heads")
    func llama31() throws {
        let c = try Self.config(#"""
            {"model_type": "llama", \#(Self.base), "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
             "rope_theta": 500000.0, "max_position_embeddings": 131072, "tie_word_embeddings": false,
             "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
            """#)
        #expect(c.ropeTheta == 500_000 && c.kvHeadCount == 8 && c.headDim == 128)
        #expect(c.ropeScaling == .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContextLength: 8192))
    }

    @Test("transformers 5 style: rope_parameters with linear scaling; explicit head_dim")
    func ropeParameters() throws {
        let c = try Self.config(#"""
            {"model_type": "mistral", \#(Self.base), "head_dim": 64,
             "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "linear", "factor": 2.0}}
            """#)
        #expect(c.family == .mistral && c.ropeTheta == 1_000_000 && c.ropeScaling == .linear(factor: 2) && c.headDim == 64)
        #expect(c.kvHeadCount == 32, "num_key_value_heads defaults to num_attention_heads")
    }

    @Test("sliding windows: mistral's sliding_window, qwen2's only with use_sliding_window")
    func slidingWindow() throws {
        let mistral = try Self.config(#"{"model_type": "mistral", \#(Self.base), "sliding_window": 4096}"#)
        #expect(mistral.slidingWindow == 4096)
        let mistralFull = try Self.config(#"{"model_type": "mistral", \#(Self.base), "sliding_window": null}"#)
        #expect(mistralFull.slidingWindow == nil)
        let mistralDefault = try Self.config(#"{"model_type": "mistral", \#(Self.base)}"#)
        #expect(mistralDefault.slidingWindow == 4096 && mistralDefault.maxPositionEmbeddings == 131_072)
        let qwenOff = try Self.config(#"{"model_type": "qwen2", \#(Self.base), "sliding_window": 4096, "use_sliding_window": false}"#)
        #expect(qwenOff.slidingWindow == nil)
        let qwenOn = try Self.config(#"{"model_type": "qwen2", \#(Self.base), "sliding_window": 4096, "use_sliding_window": true}"#)
        #expect(qwenOn.slidingWindow == 4096)
    }

    @Test("qwen2 has q/k/v biases but no o_proj bias, and may tie embeddings")
    func qwen2() throws {
        let c = try Self.config(#"""
            {"model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 2, "num_attention_heads": 14,
             "num_key_value_heads": 2, "intermediate_size": 4864, "vocab_size": 151936, "tie_word_embeddings": true,
             "rope_theta": 1000000.0, "rope_scaling": null}
            """#)
        let names = Set(c.expectedTensors.map(\.name))
        #expect(names.contains("model.layers.1.self_attn.q_proj.bias") && names.contains("model.layers.1.self_attn.v_proj.bias"))
        #expect(!names.contains("model.layers.1.self_attn.o_proj.bias"))
        let head = try #require(c.expectedTensors.first { $0.name == "lm_head.weight" })
        #expect(!head.required)
        let k = try #require(c.expectedTensors.first { $0.name == "model.layers.0.self_attn.k_proj.weight" })
        #expect(k.shape == [128, 896])
    }

    @Test("bad configs give errors naming the field", arguments: [
        (#"{"model_type": "gpt2", "n_embd": 768}"#,
         ModelError.unsupportedModelType(file: "config.json", modelType: "gpt2", supported: ["llama", "mistral", "qwen2"])),
        (#"{"hidden_size": 8}"#, ModelError.missingField(file: "config.json", field: "model_type")),
        (#"{"model_type": "llama", "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 8, "vocab_size": 8}"#,
         ModelError.missingField(file: "config.json", field: "hidden_size")),
        (#"{"model_type": "llama", "hidden_size": "4096", "num_hidden_layers": 2}"#,
         ModelError.invalidField(file: "config.json", field: "hidden_size", reason: "must be a positive integer, got \"4096\"")),
        (#"{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 3, "intermediate_size": 8, "vocab_size": 8}"#,
         ModelError.invalidField(file: "config.json", field: "num_key_value_heads", reason: "(3) must divide num_attention_heads (8)")),
        (#"{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8, "intermediate_size": 8, "vocab_size": 8, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"#,
         ModelError.unsupportedSetting(file: "config.json", field: "rope_scaling.rope_type", value: "yarn", supported: ["default", "linear", "llama3"])),
        (#"{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8, "intermediate_size": 8, "vocab_size": 8, "hidden_act": "gelu"}"#,
         ModelError.unsupportedSetting(file: "config.json", field: "hidden_act", value: "gelu", supported: ["silu"])),
        ("[1, 2]", ModelError.malformedConfig(file: "config.json", reason: "top level is an array, expected an object")),
        ("{\"model_type\": ", ModelError.malformedConfig(file: "config.json", reason: "not valid JSON")),
    ])
    func badConfig(json: String, expected: ModelError) {
        #expect(throws: expected) { try Self.config(json) }
    }

    @Test("the example model's tensors match its config")
    func exampleModelCheck() throws {
        let model = try ModelDirectory(path: Fixtures.exampleModel.path)
        let check = model.check()
        #expect(check.passed, "\(check)")
        #expect(model.checkpoint.tensors.count == 4 * 9 + 3)
        #expect(model.checkpoint.tensors.allSatisfy { $0.dtype == .bfloat16 })
    }

    @Test("a config that disagrees with the tensors is reported tensor by tensor")
    func disagreeingConfig() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let weights = Fixtures.exampleModel.appendingPathComponent("model.safetensors")
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent("model.safetensors"), withDestinationURL: weights)
        // Three layers instead of four, and an intermediate size of 512 instead of 768.
        var config = try String(contentsOf: Fixtures.exampleModel.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\"num_hidden_layers\": 4", with: "\"num_hidden_layers\": 3")
            .replacingOccurrences(of: "\"intermediate_size\": 768", with: "\"intermediate_size\": 512")
            .replacingOccurrences(of: "\"attention_bias\": false", with: "\"attention_bias\": true")
        try config.write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)

        let check = try ModelDirectory(path: directory.path).check()
        #expect(check.missing.map(\.name) == (0..<3).flatMap { layer in
            ["q", "k", "v", "o"].map { "model.layers.\(layer).self_attn.\($0)_proj.bias" }
        })
        #expect(check.unexpected.count == 9 && check.unexpected.allSatisfy { $0.name.hasPrefix("model.layers.3.") })
        #expect(check.wrongShape.count == 9)
        let first = try #require(check.wrongShape.first)
        #expect(first.name == "model.layers.0.mlp.gate_proj.weight" && first.expected == [512, 256] && first.actual == [768, 256])
        let error = try #require(throws: ModelError.self) { try check.validate(directory: directory.path) }
        #expect(error.description.hasPrefix("\(directory.path): tensors disagree with config.json: 12 missing"))
    }

    @Test("a directory without config.json is reported")
    func missingConfig() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: ModelError.missingConfig(directory: directory.path)) { try ModelDirectory(path: directory.path) }
    }
}

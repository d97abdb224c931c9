import QuantGateFormats
import QuantGateTensors
import Testing

/// vLLM 0.32.0's acceptance rules (`Formats/Loaders`): the configs QuantGate's writers produce by default pass;
/// each rule refuses what that release's source refuses, naming the rule, the release and the field.
/// `Tools/interop_vllm.py` checks the same verdicts against vLLM itself.
@Suite("vLLM loader rules")
struct VLLMRulesTests {
    /// Two Llama blocks, hidden 256, FFN 768, GQA (k/v 128 outputs).
    static let linears: [String: [Int]] = {
        var shapes: [String: [Int]] = [:]
        for layer in 0..<2 {
            let p = "model.layers.\(layer)."
            for (leaf, shape) in [("self_attn.q_proj", [256, 256]), ("self_attn.k_proj", [128, 256]), ("self_attn.v_proj", [128, 256]),
                                  ("self_attn.o_proj", [256, 256]), ("mlp.gate_proj", [768, 256]), ("mlp.up_proj", [768, 256]),
                                  ("mlp.down_proj", [256, 768])] {
                shapes[p + leaf] = shape
            }
        }
        return shapes
    }()

    static func rules(_ config: JSONValue, quantized: Set<String>? = nil, linears: [String: [Int]] = linears) -> [String] {
        VLLMRules.v0_32_0.violations(LoaderInput(quantizationConfig: config, linears: linears, quantized: quantized ?? Set(linears.keys))).map(\.rule)
    }

    static func gptq(bits: Int = 4, group: Int? = 128, descAct: Bool = false, symmetric: Bool = true) -> GPTQQuantizationConfig {
        GPTQQuantizationConfig(bits: bits, groupSize: group, descAct: descAct, symmetric: symmetric, dampPercent: 0.01, trueSequential: true,
                               staticGroups: !descAct, checkpointFormat: .gptq)
    }

    /// `json` with `key` set to `value` (or removed for nil).
    static func setting(_ json: JSONValue, _ key: String, _ value: JSONValue?) -> JSONValue {
        var object = json.object ?? [:]
        object[key] = value
        return .object(object)
    }

    @Test("GPTQ: the default config loads; group act-order, asymmetric, 2-bit, unsupported groups and missing keys are refused")
    func gptqRules() {
        #expect(Self.rules(Self.gptq().json).isEmpty)
        #expect(Self.rules(Self.gptq(bits: 8).json).isEmpty, "8-bit symmetric runs on the CUDA backend (uint8b128)")
        #expect(Self.rules(Self.gptq(group: 64).json).isEmpty && Self.rules(Self.gptq(group: 32).json).isEmpty)
        #expect(Self.rules(Self.gptq(group: nil, descAct: true).json).isEmpty, "desc_act with one group per row is a no-op vLLM accepts")
        #expect(Self.rules(Self.gptq(descAct: true).json) == ["gptq-group-act-order"])
        #expect(Self.rules(Self.gptq(symmetric: false).json) == ["gptq-bits-sym"])
        #expect(Self.rules(Self.gptq(bits: 2).json) == ["gptq-bits-sym"])
        #expect(Self.rules(Self.gptq(group: 16).json) == ["gptq-group-size"])
        #expect(Self.rules(Self.gptq(group: 256).json) == ["gptq-group-size"])
        #expect(Self.rules(Self.setting(Self.gptq().json, "sym", nil)) == ["gptq-required-keys"])
        let dynamic = Self.setting(Self.gptq().json, "dynamic", .object([#"+:.*\.1\..*"#: .object(["desc_act": .bool(true)])]))
        #expect(Self.rules(dynamic) == ["gptq-group-act-order"], "a per-module override meets the same rules")
        let violation = VLLMRules.v0_32_0.violations(LoaderInput(quantizationConfig: Self.gptq(descAct: true).json, linears: Self.linears,
                                                                  quantized: Set(Self.linears.keys)))[0]
        #expect(violation.description.hasPrefix("vLLM 0.32.0 refuses it (rule gptq-group-act-order, vllm/model_executor/layers/quantization/utils/gptq_utils.py)"))
        #expect(violation.description.contains("desc_act true with group_size 128"))
    }

    @Test("a group that does not divide a Linear's inputs is refused (GPTQ and AWQ)")
    func groupsDivideInputs() {
        var odd = Self.linears
        odd["model.layers.0.mlp.down_proj"] = [256, 800]
        #expect(Self.rules(Self.gptq(group: 64).json, linears: odd) == ["gptq-group-divides-inputs"])
        #expect(Self.rules(AWQQuantizationConfig(groupSize: 64).json, linears: odd) == ["awq-group-divides-inputs"])
    }

    @Test("AWQ: the GEMM config loads; other bit widths, GEMV, no zero points and a split fused group are refused")
    func awqRules() {
        let awq = AWQQuantizationConfig(groupSize: 128).json
        #expect(Self.rules(awq).isEmpty)
        #expect(Self.rules(AWQQuantizationConfig(groupSize: 16).json).isEmpty, "the CUDA backend's legacy AWQ kernel takes any dividing group")
        #expect(Self.rules(Self.setting(awq, "bits", .number(8))) == ["awq-bits"])
        #expect(Self.rules(Self.setting(Self.setting(awq, "version", .string("gemv")), "format", .string("gemv"))) == ["awq-layout"])
        #expect(Self.rules(Self.setting(awq, "zero_point", .bool(false))) == ["awq-zero-point"])
        #expect(Self.rules(Self.setting(awq, "zero_point", nil)) == ["awq-required-keys"])
        #expect(Self.rules(Self.setting(awq, "modules_to_not_convert", .array([.string("k_proj")]))) == ["awq-fused-shards"])
    }

    @Test("compressed-tensors FP8: QuantGate's configs load; unknown argument keys, globs in ignore, split fused groups and group act-order are refused")
    func compressedTensorsRules() {
        let blockLinears = Set(Self.linears.keys)
        for scheme in [FP8Scheme(weights: .channel, activations: .static), FP8Scheme(weights: .tensor, activations: .dynamic)] {
            #expect(Self.rules(FP8QuantizationConfig(scheme: scheme, ignore: ["lm_head"]).json).isEmpty, "\(scheme)")
        }
        let scheme = FP8Scheme(weights: .channel, activations: .static)
        let downs = ["model.layers.0.mlp.down_proj", "model.layers.1.mlp.down_proj"]
        #expect(Self.rules(FP8QuantizationConfig(scheme: scheme, ignore: ["lm_head"] + downs).json, quantized: blockLinears.subtracting(downs)).isEmpty)
        #expect(Self.rules(FP8QuantizationConfig(scheme: scheme, ignore: ["lm_head", #"re:.*down_proj"#]).json,
                           quantized: blockLinears.subtracting(downs)).isEmpty, "re: patterns match from the start")
        // A glob vLLM would take as an exact name: the down_proj weights stored in bf16 would be read as FP8.
        #expect(Self.rules(FP8QuantizationConfig(scheme: scheme, ignore: ["lm_head", "*.down_proj"]).json,
                           quantized: blockLinears.subtracting(downs)) == ["ct-ignore-matches-storage"])
        let k = "model.layers.0.self_attn.k_proj"
        #expect(Self.rules(FP8QuantizationConfig(scheme: scheme, ignore: ["lm_head", k]).json, quantized: blockLinears.subtracting([k]))
                == ["ct-ignore-splits-fused"])

        func group(_ change: (inout [String: JSONValue]) -> Void) -> JSONValue {
            var config = FP8QuantizationConfig(scheme: scheme, ignore: ["lm_head"]).json.object!
            var groups = config["config_groups"]!.object!
            var first = groups["group_0"]!.object!
            change(&first)
            groups["group_0"] = .object(first)
            config["config_groups"] = .object(groups)
            return .object(config)
        }
        #expect(Self.rules(group { g in g["weights"] = Self.setting(g["weights"]!, "scale_layout", .string("x")) }) == ["ct-argument-keys"])
        #expect(Self.rules(group { g in g["weights"] = Self.setting(g["weights"]!, "actorder", .string("group")) }) == ["ct-actorder-group"])
        #expect(Self.rules(group { g in g["weights"] = Self.setting(g["weights"]!, "symmetric", .bool(false)) }) == ["ct-fp8-weights"])
        #expect(Self.rules(group { g in g["input_activations"] = Self.setting(g["input_activations"]!, "strategy", .string("token")) })
                == ["ct-static-token"])
        #expect(Self.rules(group { g in g["format"] = .string("pack-quantized") }) == ["ct-format"], "the group's format wins over the global one")
        #expect(Self.rules(.object(["quant_method": .string("bitsandbytes")])) == ["quant-method"])
    }
}

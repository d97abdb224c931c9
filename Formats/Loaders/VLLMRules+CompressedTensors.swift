import QuantGateTensors

/// The compressed-tensors rules (`CompressedTensorsConfig` and compressed-tensors' `QuantizationArgs`) for
/// the FP8 W8A8 checkpoints QuantGate writes.
extension VLLMRules {
    static let compressedTensorsSource = "model_executor/layers/quantization/compressed_tensors/compressed_tensors.py"

    func compressedTensorsViolations(_ input: LoaderInput) -> [LoaderRuleViolation] {
        let config = input.quantizationConfig
        var found: [LoaderRuleViolation] = []
        func refuse(_ rule: String, _ reason: String, _ source: String = Self.compressedTensorsSource) {
            found.append(violation(rule, reason, source: source))
        }
        let globalFormat = config["format"]?.string
        for (name, group) in (config["config_groups"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = "config_groups.\(name)"
            if group["targets"]?.array == nil { refuse("ct-targets", "\(field).targets is missing (vLLM iterates over it)") }
            for key in ["weights", "input_activations", "output_activations"] {
                guard let arguments = group[key]?.object else { continue }
                let unknown = arguments.keys.filter { !compressedTensorsArgumentKeys.contains($0) }.sorted()
                if !unknown.isEmpty {
                    refuse("ct-argument-keys", "\(field).\(key) has \(unknown.joined(separator: ", ")), which compressed-tensors' QuantizationArgs forbids "
                           + "(\"Extra inputs are not permitted\")", "compressed_tensors/quantization/quant_args.py (compressed-tensors, as vLLM \(version) pins it)")
                }
                if arguments["strategy"]?.string == "token", arguments["dynamic"]?.boolValue != true {
                    refuse("ct-static-token", "\(field).\(key) is static per token: \"Cannot perform static token quantization, please use `dynamic=True`\"",
                           "compressed_tensors/quantization/quant_args.py (compressed-tensors)")
                }
            }
            guard let weights = group["weights"]?.object else {
                refuse("ct-weights", "\(field).weights is missing")
                continue
            }
            if let order = weights["actorder"]?.string, ["group", "dynamic"].contains(order) {
                refuse("ct-actorder-group", "\(field).weights.actorder \"\(order)\": \"Compressed-tensors group/dynamic activation ordering is no longer supported.\"")
            }
            let format = group["format"]?.string ?? globalFormat
            let isFP8 = weights["type"]?.string == "float" && weights["num_bits"]?.int == 8
            guard isFP8 else { continue }
            if !compressedTensorsActivationFormats.contains(format ?? "") {
                refuse("ct-format", "\(field) stores FP8 weights in format \(format.map { "\"\($0)\"" } ?? "(none)"): vLLM finds no scheme for it (\"No compressed-tensors "
                       + "compatible scheme was found\"); FP8 needs one of \(compressedTensorsActivationFormats.sorted())")
            }
            let strategy = weights["strategy"]?.string ?? ""
            if weights["symmetric"]?.boolValue != true || weights["dynamic"]?.boolValue == true || !["tensor", "channel", "block"].contains(strategy) {
                refuse("ct-fp8-weights", "\(field).weights (strategy \(strategy.isEmpty ? "none" : strategy), symmetric \(weights["symmetric"]?.boolValue.map { String($0) } ?? "unset"), "
                       + "dynamic \(weights["dynamic"]?.boolValue.map { String($0) } ?? "unset")): vLLM's FP8 schemes take static symmetric weights per tensor, channel or block "
                       + "(\"No compressed-tensors compatible scheme was found\")")
            }
        }
        if !(config["sparsity_config"]?["targets"]?.array ?? []).isEmpty {
            refuse("ct-sparsity", "sparsity_config has targets: \"Sparsity support has been removed from compressed-tensors.\"")
        }
        if let kv = config["kv_cache_scheme"]?.object {
            let strategy = kv["strategy"]?.string ?? ""
            if kv["num_bits"]?.int != 8 || kv["type"]?.string != "float" || !["tensor", "attn_head"].contains(strategy) || kv["symmetric"]?.boolValue != true {
                refuse("ct-kv-cache", "kv_cache_scheme must be symmetric 8-bit float per tensor or attention head")
            }
        }
        found += ignoreRules(input)
        return found
    }

    /// vLLM matches `ignore` entries as exact module names or `re:` patterns (Python's `re.match`: anchored at
    /// the start only); no globs. A Linear vLLM ignores must be stored in the source dtype and the others as FP8,
    /// and the members of a fused group must all be ignored or none.
    private func ignoreRules(_ input: LoaderInput) -> [LoaderRuleViolation] {
        let entries = (input.quantizationConfig["ignore"]?.array ?? []).compactMap(\.string)
        let patterns = entries.filter { $0.hasPrefix("re:") }.compactMap { try? Regex(String($0.dropFirst(3))) }
        let exact = Set(entries.filter { !$0.hasPrefix("re:") })
        func ignored(_ module: String) -> Bool {
            exact.contains(module) || patterns.contains { (try? $0.prefixMatch(in: module)) != nil }
        }
        var found: [LoaderRuleViolation] = []
        let source = "model_executor/layers/quantization/utils/config_utils.py"
        if let split = splitFusedGroups(input.linears.keys, excluded: ignored).first {
            found.append(violation("ct-ignore-splits-fused", "ignore covers part of \(split): \"Found different quantization schemes for the shards of \(split). "
                                   + "vLLM requires all to use the same scheme.\"", source: "model_executor/layers/quantization/compressed_tensors/utils.py"))
        }
        let modules = input.linears.keys.sorted()
        if let module = modules.first(where: { ignored($0) == input.quantized.contains($0) }) {
            let stored = input.quantized.contains(module) ? "stored as FP8 but matched by ignore" : "stored in the source dtype but matched by no ignore entry"
            found.append(violation("ct-ignore-matches-storage", "\(module) is \(stored) as vLLM matches ignore (exact names and re: patterns, no globs), "
                                   + "so vLLM would load it as another scheme", source: source))
        }
        return found
    }
}

import QuantGateTensors

/// The `quantization_config` of an FP8 compressed-tensors checkpoint, in the form llm-compressor
/// writes (`ModelCompressor.update_config`): one config group targeting `Linear`, format
/// `float-quantized`, status `compressed`, and the modules left unquantized in `ignore`.
///
/// Written keys are limited to those every compressed-tensors release since 0.11 accepts (its
/// `QuantizationArgs` forbid unknown keys), so vLLM and transformers of that age load the file.
public struct FP8QuantizationConfig: Sendable, Equatable {
    public var scheme: FP8Scheme
    /// Module names (or `re:` patterns) left in the source dtype.
    public var ignore: [String]

    /// The compressed-tensors release whose output layout this matches (Tools/interop_fp8.py checks it).
    public static let declaredVersion = "0.19.0"

    public init(scheme: FP8Scheme, ignore: [String]) {
        self.scheme = scheme
        self.ignore = ignore
    }

    /// The JSON object for `config.json`'s `quantization_config`.
    public var json: JSONValue {
        func args(strategy: String, dynamic: Bool, observer: String?) -> JSONValue {
            .object([
                "num_bits": .number(8), "type": .string("float"), "symmetric": .bool(true), "strategy": .string(strategy),
                "dynamic": .bool(dynamic), "group_size": .null, "block_structure": .null, "actorder": .null,
                "observer": observer.map(JSONValue.string) ?? .null, "observer_kwargs": .object([:]),
            ])
        }
        // Observers by llm-compressor 0.14's names for what QuantGate computes (loaders do not read them):
        // the weights' own min-max, and the maximum over every calibration token for static inputs.
        let weights = args(strategy: scheme.weights.rawValue, dynamic: false, observer: "memoryless_minmax")
        let inputs = scheme.activations == .static ? args(strategy: "tensor", dynamic: false, observer: "static_minmax")
            : args(strategy: "token", dynamic: true, observer: nil)
        return .object([
            "quant_method": .string("compressed-tensors"),
            "format": .string("float-quantized"),
            "quantization_status": .string("compressed"),
            "version": .string(Self.declaredVersion),
            "global_compression_ratio": .null,
            "kv_cache_scheme": .null,
            "sparsity_config": .object([:]),
            "transform_config": .object([:]),
            "ignore": .array(ignore.map { .string($0) }),
            "config_groups": .object([
                "group_0": .object([
                    "targets": .array([.string("Linear")]),
                    "format": .string("float-quantized"),
                    "weights": weights,
                    "input_activations": inputs,
                    "output_activations": .null,
                ]),
            ]),
        ])
    }

    /// Reads and validates a `quantization_config` object.
    /// - Throws: ``QuantizedCheckpointError/invalidConfig(file:field:reason:)`` naming the field: another
    ///   method or format, several groups, a group that does not target `Linear`, weights or inputs that
    ///   are not symmetric float 8-bit with a supported strategy.
    public init(json: JSONValue, file: String) throws(QuantizedCheckpointError) {
        func fail(_ field: String, _ reason: String) -> QuantizedCheckpointError { .invalidConfig(file: file, field: field, reason: reason) }
        guard json["quant_method"]?.string == "compressed-tensors" else {
            throw fail("quant_method", "is \(QuantizedCheckpointError.shown(json["quant_method"])), expected \"compressed-tensors\"")
        }
        guard json["format"]?.string == "float-quantized" else {
            throw fail("format", "is \(QuantizedCheckpointError.shown(json["format"])); this reader handles \"float-quantized\" (FP8 W8A8)")
        }
        guard let groups = json["config_groups"]?.object else {
            throw fail("config_groups", "is \(QuantizedCheckpointError.shown(json["config_groups"])), expected an object with one group")
        }
        guard groups.count == 1, let (name, group) = groups.first else {
            throw fail("config_groups", "holds \(groups.count) groups; this reader handles exactly one")
        }
        guard let targets = group["targets"]?.array?.compactMap(\.string), targets == ["Linear"] else {
            throw fail("config_groups.\(name).targets", "is \(QuantizedCheckpointError.shown(group["targets"])), expected [\"Linear\"]")
        }
        func float8(_ key: String) throws(QuantizedCheckpointError) -> (strategy: String, dynamic: Bool) {
            let field = "config_groups.\(name).\(key)"
            guard let args = group[key] else { throw fail(field, "is absent (weight-only FP8 is not supported)") }
            guard args["type"]?.string == "float" else { throw fail("\(field).type", "is \(QuantizedCheckpointError.shown(args["type"])), expected \"float\" (FP8)") }
            guard args["num_bits"]?.int == 8 else { throw fail("\(field).num_bits", "is \(QuantizedCheckpointError.shown(args["num_bits"])), expected 8") }
            guard args["symmetric"] == .bool(true) else { throw fail("\(field).symmetric", "must be true for FP8") }
            guard let strategy = args["strategy"]?.string else { throw fail("\(field).strategy", "is absent") }
            return (strategy, args["dynamic"] == .bool(true))
        }
        let weights = try float8("weights")
        guard let weightScales = FP8Scheme.WeightScales(rawValue: weights.strategy), !weights.dynamic else {
            throw fail("config_groups.\(name).weights.strategy", "is \(weights.strategy)\(weights.dynamic ? " (dynamic)" : ""); expected static channel or tensor")
        }
        let inputs = try float8("input_activations")
        let activations: FP8Scheme.Activations
        switch (inputs.strategy, inputs.dynamic) {
        case ("tensor", false): activations = .static
        case ("token", true): activations = .dynamic
        default: throw fail("config_groups.\(name).input_activations.strategy", "is \(inputs.strategy) with dynamic \(inputs.dynamic); expected static tensor or dynamic token")
        }
        scheme = FP8Scheme(weights: weightScales, activations: activations)
        ignore = json["ignore"]?.array?.compactMap(\.string) ?? []
    }

    /// Whether module `name` (a tensor name without `.weight`) is in the ignore list, matched as vLLM
    /// matches it (`_is_equal_or_regex_match`): an entry equal to the name, or `re:` and a regular
    /// expression that matches at the start of the name (Python's `re.match`).
    public func ignores(module name: String) -> Bool {
        ignore.contains { entry in
            guard entry.hasPrefix("re:") else { return entry == name }
            guard let pattern = try? Regex(String(entry.dropFirst(3))) else { return false }
            return (try? pattern.prefixMatch(in: name)) != nil
        }
    }
}

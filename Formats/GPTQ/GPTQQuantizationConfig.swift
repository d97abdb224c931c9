import QuantGateTensors

/// The `quantization_config` of a GPTQ checkpoint, as AutoGPTQ and GPTQModel write it and transformers,
/// vLLM (`gptq`, `gptq_marlin`) and GPTQModel read it (../shared/design/FORMATS.md §3.4).
public struct GPTQQuantizationConfig: Sendable, Equatable {
    /// How zero points are stored.
    public enum CheckpointFormat: String, Sendable, CaseIterable {
        /// v1 (AutoGPTQ, the default every loader reads): `zero − 1` is stored, readers add 1 back.
        case gptq
        /// v2 (GPTQModel): zeros stored as they are.
        case gptqV2 = "gptq_v2"

        /// What a reader adds to a stored zero.
        public var zeroOffset: Int32 { self == .gptq ? 1 : 0 }
    }

    /// 2, 4 or 8.
    public var bits: Int
    /// Input columns per group; nil for one group per output row (`-1`).
    public var groupSize: Int?
    /// Act-order (`desc_act`): `g_idx` may be in any order.
    public var descAct: Bool
    public var symmetric: Bool
    public var dampPercent: Double
    public var trueSequential: Bool
    public var staticGroups: Bool
    public var checkpointFormat: CheckpointFormat
    /// Extra entries for `meta` (GPTQModel's place for the quantizer's name and settings loaders ignore).
    public var meta: [String: JSONValue]

    public init(bits: Int, groupSize: Int?, descAct: Bool, symmetric: Bool, dampPercent: Double, trueSequential: Bool,
                staticGroups: Bool, checkpointFormat: CheckpointFormat, meta: [String: JSONValue] = [:]) {
        (self.bits, self.groupSize, self.descAct, self.symmetric) = (bits, groupSize, descAct, symmetric)
        (self.dampPercent, self.trueSequential, self.staticGroups, self.checkpointFormat, self.meta) =
            (dampPercent, trueSequential, staticGroups, checkpointFormat, meta)
    }

    /// Codes per int32 word.
    public var codesPerWord: Int { 32 / bits }

    /// The JSON object for `config.json`'s `quantization_config` (and `quantize_config.json`). Both
    /// `checkpoint_format` (AutoGPTQ, vLLM) and `format` (GPTQModel, transformers 5) are written.
    public var json: JSONValue {
        .object([
            "quant_method": .string("gptq"),
            "bits": .number(Double(bits)),
            "group_size": .number(Double(groupSize ?? -1)),
            "desc_act": .bool(descAct),
            "sym": .bool(symmetric),
            "damp_percent": .number(dampPercent),
            "true_sequential": .bool(trueSequential),
            "static_groups": .bool(staticGroups),
            "lm_head": .bool(false),
            "checkpoint_format": .string(checkpointFormat.rawValue),
            "format": .string(checkpointFormat.rawValue),
            "pack_dtype": .string("int32"),
            "meta": .object(meta),
        ])
    }

    /// Reads and validates a `quantization_config` object, accepting what the loaders accept: `quant_method`
    /// in either case, `format` or `checkpoint_format` (default `gptq`), `sym` absent meaning true. An AWQ
    /// config (`zero_point`) under `quant_method: gptq` is refused naming `quant_method`.
    /// - Throws: ``QuantizedCheckpointError/invalidConfig(file:field:reason:)`` naming the field.
    public init(json: JSONValue, file: String) throws(QuantizedCheckpointError) {
        func fail(_ field: String, _ reason: String) -> QuantizedCheckpointError { .invalidConfig(file: file, field: field, reason: reason) }
        guard json.object != nil else { throw fail("", "is \(json.kind), expected an object") }
        guard json["quant_method"]?.string?.lowercased() == "gptq" else {
            throw fail("quant_method", "is \(QuantizedCheckpointError.shown(json["quant_method"])), expected \"gptq\"")
        }
        // AutoAWQ's key (GPTQ configs say `sym`): an AWQ config under the wrong method.
        guard json["zero_point"] == nil else {
            throw fail("quant_method", "is \(QuantizedCheckpointError.shown(json["quant_method"])), but the config holds AutoAWQ's zero_point; expected \"awq\" for an AWQ checkpoint")
        }
        guard let bits = (json["bits"] ?? json["w_bit"])?.int else { throw fail("bits", "is missing or not an integer") }
        guard [2, 4, 8].contains(bits) else { throw fail("bits", "is \(bits); this reader handles 2, 4 and 8") }
        guard let group = (json["group_size"] ?? json["q_group_size"])?.int, group == -1 || group > 0 else {
            throw fail("group_size", "is missing or not -1 or a positive integer")
        }
        func flag(_ key: String, default value: Bool) throws(QuantizedCheckpointError) -> Bool {
            guard let entry = json[key] else { return value }
            guard case .bool(let flag) = entry else { throw fail(key, "is \(entry.kind), expected a boolean") }
            return flag
        }
        let formatKey = json["checkpoint_format"] != nil ? "checkpoint_format" : "format"
        let declared = json[formatKey]
        guard let format = CheckpointFormat(rawValue: declared.map { $0.string ?? "" } ?? "gptq") else {
            throw fail(formatKey, "is \(QuantizedCheckpointError.shown(declared)); this reader handles \"gptq\" and \"gptq_v2\" (not marlin or other repacked layouts)")
        }
        guard try !flag("lm_head", default: false) else { throw fail("lm_head", "is true; a quantized lm_head is not read") }
        var damp = 0.01
        if let entry = json["damp_percent"] {
            guard case .number(let value) = entry else { throw fail("damp_percent", "is \(entry.kind), expected a number") }
            damp = value
        }
        self.init(bits: bits, groupSize: group == -1 ? nil : group, descAct: try flag("desc_act", default: false),
                  symmetric: try flag("sym", default: true), dampPercent: damp, trueSequential: try flag("true_sequential", default: true),
                  staticGroups: try flag("static_groups", default: false), checkpointFormat: format,
                  meta: json["meta"]?.object ?? [:])
    }
}

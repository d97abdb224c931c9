import QuantGateTensors

/// The `quantization_config` of an AutoAWQ GEMM checkpoint, as AutoAWQ's `save_quantized` writes it and
/// transformers, vLLM (`awq`, `awq_marlin`) and GPTQModel read it (../shared/design/FORMATS.md §2.4).
/// GEMM stores 4-bit codes with a zero point per group, so `bits` and `zero_point` are fixed.
public struct AWQQuantizationConfig: Sendable, Equatable {
    /// Input columns per group.
    public var groupSize: Int
    /// Modules left in float by name (loaders skip a Linear whose name contains one); nil writes `null`.
    public var modulesToNotConvert: [String]?
    /// Extra entries for `meta` (the quantizer's name and settings; loaders ignore it).
    public var meta: [String: JSONValue]

    /// Bits per code: AutoAWQ's GEMM layout is 4-bit only.
    public static let bits = 4
    /// Codes per int32 word.
    public static let codesPerWord = 32 / bits

    /// - Precondition: `groupSize > 0`.
    public init(groupSize: Int, modulesToNotConvert: [String]? = nil, meta: [String: JSONValue] = [:]) {
        precondition(groupSize > 0, "AWQ groups are runs of input columns")
        (self.groupSize, self.modulesToNotConvert, self.meta) = (groupSize, modulesToNotConvert, meta)
    }

    /// The JSON object for `config.json`'s `quantization_config`: AutoAWQ's keys (`version`), plus
    /// transformers 5's `format` for the same value.
    public var json: JSONValue {
        .object([
            "quant_method": .string("awq"),
            "bits": .number(Double(Self.bits)),
            "group_size": .number(Double(groupSize)),
            "zero_point": .bool(true),
            "version": .string("gemm"),
            "format": .string("gemm"),
            "modules_to_not_convert": modulesToNotConvert.map { .array($0.map(JSONValue.string)) } ?? .null,
            "meta": .object(meta),
        ])
    }

    /// Reads and validates a `quantization_config` object, accepting what the loaders accept: `bits` or
    /// `w_bit`, `group_size` or `q_group_size`, `version` or `format` in either case (default gemm).
    /// - Throws: ``QuantizedCheckpointError/invalidConfig(file:field:reason:)`` naming the field.
    public init(json: JSONValue, file: String) throws(QuantizedCheckpointError) {
        func fail(_ field: String, _ reason: String) -> QuantizedCheckpointError { .invalidConfig(file: file, field: field, reason: reason) }
        guard json.object != nil else { throw fail("", "is \(json.kind), expected an object") }
        guard json["quant_method"]?.string?.lowercased() == "awq" else {
            throw fail("quant_method", "is \(QuantizedCheckpointError.shown(json["quant_method"])), expected \"awq\"")
        }
        guard let bits = (json["bits"] ?? json["w_bit"])?.int else { throw fail("bits", "is missing or not an integer") }
        guard bits == Self.bits else { throw fail("bits", "is \(bits); the GEMM layout is 4-bit only") }
        guard let group = (json["group_size"] ?? json["q_group_size"])?.int else { throw fail("group_size", "is missing or not an integer") }
        guard group > 0 else { throw fail("group_size", "is \(group); the GEMM layout needs groups of input columns") }
        if let entry = json["zero_point"] {
            guard case .bool(true) = entry else {
                throw fail("zero_point", "is \(QuantizedCheckpointError.shown(entry)), expected true (the GEMM layout always has zero points)")
            }
        }
        let layoutKey = json["version"] != nil ? "version" : "format"
        let declared = json[layoutKey]
        guard declared == nil || declared?.string != nil else { throw fail(layoutKey, "is \(declared!.kind), expected a string") }
        guard (declared?.string ?? "gemm").lowercased() == "gemm" else {
            throw fail(layoutKey, "is \(QuantizedCheckpointError.shown(declared)); this reader handles the gemm layout (not gemv, exllama, marlin or ipex)")
        }
        var skipped: [String]?
        switch json["modules_to_not_convert"] {
        case nil, .null?: skipped = nil
        case .array(let names)?:
            skipped = try names.map { name throws(QuantizedCheckpointError) in
                guard let text = name.string else { throw fail("modules_to_not_convert", "holds \(name.kind), expected strings") }
                return text
            }
        case let other?: throw fail("modules_to_not_convert", "is \(other.kind), expected null or an array of names")
        }
        self.init(groupSize: group, modulesToNotConvert: skipped, meta: json["meta"]?.object ?? [:])
    }
}

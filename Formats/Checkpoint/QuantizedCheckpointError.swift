import QuantGateTensors

/// What can be wrong with a quantized checkpoint (compressed-tensors, GPTQ) or its `quantization_config`;
/// every case names the file and the field or tensor at fault.
public enum QuantizedCheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `config.json` is missing, unreadable or not a JSON object.
    case unreadableConfig(file: String, reason: String)
    /// A `quantization_config` field is absent or has a value this reader does not accept.
    case invalidConfig(file: String, field: String, reason: String)
    /// A tensor is missing, or has the wrong dtype or shape for the declared scheme.
    case invalidTensor(file: String, tensor: String, reason: String)

    public var description: String {
        switch self {
        case .unreadableConfig(let file, let reason): "\(file): \(reason)"
        case .invalidConfig(let file, let field, let reason): "\(file): quantization_config.\(field): \(reason)"
        case .invalidTensor(let file, let tensor, let reason): "\(file): tensor \(tensor): \(reason)"
        }
    }

    /// A config value as messages show it: `"gemv"`, `8`, `false`, `["Linear"]`, `an object`, or `absent`
    /// (also for `null`).
    static func shown(_ value: JSONValue?) -> String {
        switch value {
        case nil: "absent"
        case .array(let items)? where items.allSatisfy({ $0.array == nil && $0.object == nil }):
            "[" + items.map { PythonJSON.render($0) }.joined(separator: ", ") + "]"
        case .array?, .object?: value!.kind
        case let scalar?: PythonJSON.render(scalar)
        }
    }
}

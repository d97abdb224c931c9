/// An element type of a stored tensor, named as the safetensors format names it.
///
/// Covers every byte-sized safetensors dtype. The sub-byte and exotic ones the format also
/// defines (`F4`, `F6_E2M3`, `F6_E3M2`, `F8_E8M0`, `F8_E4M3FNUZ`, `F8_E5M2FNUZ`, `C64`) are
/// recognised by ``unsupportedNames`` so readers can say "valid but unsupported" rather than "unknown".
public enum DType: String, CaseIterable, Sendable, Codable {
    case float64 = "F64"
    case float32 = "F32"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case float8E4M3 = "F8_E4M3"
    case float8E5M2 = "F8_E5M2"
    case int64 = "I64"
    case int32 = "I32"
    case int16 = "I16"
    case int8 = "I8"
    case uint64 = "U64"
    case uint32 = "U32"
    case uint16 = "U16"
    case uint8 = "U8"
    case bool = "BOOL"

    /// Safetensors dtype names that are part of the format but that QuantGate does not read.
    public static let unsupportedNames: Set<String> = [
        "F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64",
    ]

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64, .uint64: 8
        case .float32, .int32, .uint32: 4
        case .float16, .bfloat16, .int16, .uint16: 2
        case .float8E4M3, .float8E5M2, .int8, .uint8, .bool: 1
        }
    }

    /// True for the floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16, .float8E4M3, .float8E5M2: true
        default: false
        }
    }

    /// The position of this dtype in the Rust `safetensors` crate's `Dtype` enum. Its writer lays
    /// tensors out by this rank, highest first (then by name), and so does ours, to write the same bytes.
    public var referenceWriterRank: Int {
        switch self {
        case .bool: 0
        case .uint8: 1
        case .int8: 2
        case .float8E5M2: 3
        case .float8E4M3: 4
        case .int16: 5
        case .uint16: 6
        case .float16: 7
        case .bfloat16: 8
        case .int32: 9
        case .uint32: 10
        case .float32: 11
        case .float64: 12
        case .int64: 13
        case .uint64: 14
        }
    }
}

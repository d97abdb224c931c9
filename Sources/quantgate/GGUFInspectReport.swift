import Foundation
import QuantGateFormats
import QuantGateReport

/// `quantgate inspect FILE.gguf`: metadata (arrays summarised) and tensors with their types.
struct GGUFInspectReport: Encodable {
    struct Tensor: Encodable {
        var name: String
        var shape: [Int]
        var type: String
        var bytes: Int
    }

    var path: String
    var version: UInt32
    var alignment: Int
    var metadata: [String: String]
    var tensors: [Tensor]
    var parameters: Int
    var bytesByType: [String: Int]
    /// The structural checks the gate runs on a GGUF candidate.
    var structuralChecks: [StructuralCheck]

    init(path: String, file: GGUFFile, structuralChecks: [StructuralCheck]) {
        self.structuralChecks = structuralChecks
        self.path = path
        version = file.header.version
        alignment = file.header.alignment
        metadata = Dictionary(file.header.metadata.map { ($0.key, Self.summary($0.value)) }, uniquingKeysWith: { a, _ in a })
        tensors = file.tensors.map { Tensor(name: $0.name, shape: $0.shape, type: $0.type.name, bytes: $0.byteCount) }
        parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
        bytesByType = Dictionary(file.tensors.map { ($0.type.name, $0.byteCount) }, uniquingKeysWith: +)
    }

    /// A value as one line: arrays by type and length with their first elements.
    static func summary(_ value: GGUFValue) -> String {
        switch value {
        case .string(let s): return s.count > 120 ? "\"\(s.prefix(117))…\" (\(s.utf8.count) bytes)" : "\"\(s)\""
        case .array(let type, let values):
            let head = values.prefix(4).map(summary).joined(separator: ", ")
            return "[\(type) × \(values.count)] [\(head)\(values.count > 4 ? ", …" : "")]"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        default: return value.integer.map(String.init) ?? "?"
        }
    }

    func text(metadataOrder: [String]) -> String {
        var lines = ["GGUF:         \(path) (version \(version), alignment \(alignment))",
                     "Parameters:   \(parameters.formatted())", "Metadata:"]
        for key in metadataOrder { lines.append("  \(key.padding(toLength: 44, withPad: " ", startingAt: 0)) \(metadata[key] ?? "")") }
        lines.append("Bytes by type:")
        for (type, bytes) in bytesByType.sorted(by: { $0.key < $1.key }) { lines.append("  \(type.padding(toLength: 6, withPad: " ", startingAt: 0)) \(bytes.formatted()) bytes") }
        lines.append("Tensors (shape in ggml order, row length first):")
        for t in tensors {
            lines.append("  \(t.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(t.type.padding(toLength: 5, withPad: " ", startingAt: 0)) \(t.shape)")
        }
        lines += InspectChecks.lines(structuralChecks)
        return lines.joined(separator: "\n")
    }
}

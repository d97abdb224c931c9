import Foundation
import QuantGateOutput

/// A tensor to be written: its GGUF name, ggml-order shape, type, and a producer of its bytes,
/// called once, in file order, when the writer reaches it (so only one tensor is in memory at a time).
public struct GGUFPendingTensor {
    public var name: String
    public var shape: [Int]
    public var type: GGMLType
    public var produce: () throws -> [UInt8]

    public init(name: String, shape: [Int], type: GGMLType, produce: @escaping () throws -> [UInt8]) {
        self.name = name
        self.shape = shape
        self.type = type
        self.produce = produce
    }

    /// Bytes the producer must return.
    public var byteCount: Int { shape.dropFirst().reduce(type.rowBytes(shape[0]), *) }
}

/// Writes GGUF v3: header, metadata in the given order, tensor infos, then each tensor's bytes at
/// an offset aligned to `general.alignment` (written into the metadata when not 32). The file is
/// written through ``OutputDestination`` (a unique temporary sibling, renamed when complete).
public enum GGUFWriter {
    /// - Parameters:
    ///   - replace: replace an existing file at `path` (otherwise it is an error).
    ///   - progress: called after each tensor with (tensors done, total, name).
    /// - Throws: what a producer throws, a producer returning the wrong byte count, or ``OutputError`` (an
    ///   existing output, an I/O failure); nothing is left behind.
    public static func write(to path: String, metadata: [(key: String, value: GGUFValue)], tensors: [GGUFPendingTensor],
                             alignment: Int = GGUFHeader.defaultAlignment, replace: Bool = false,
                             progress: ((Int, Int, String) -> Void)? = nil) throws {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0)
        var metadata = metadata.filter { $0.key != "general.alignment" }
        if alignment != GGUFHeader.defaultAlignment { metadata.append(("general.alignment", .uint32(UInt32(alignment)))) }
        var header = GGUFBytes()
        header.append(contentsOf: GGUFHeader.magic)
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for (key, value) in metadata {
            header.append(string: key)
            header.append(UInt32(value.type.rawValue))
            header.append(value: value)
        }
        var offset = 0
        for tensor in tensors {
            precondition(tensor.shape[0] % tensor.type.blockValues == 0, "\(tensor.name): row length vs block size")
            header.append(string: tensor.name)
            header.append(UInt32(tensor.shape.count))
            for dimension in tensor.shape { header.append(UInt64(dimension)) }
            header.append(UInt32(tensor.type.rawValue))
            header.append(UInt64(offset))
            offset = (offset + tensor.byteCount + alignment - 1) / alignment * alignment
        }
        header.pad(to: alignment)

        try OutputDestination(path, kind: .file, replace: replace).write { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
                throw OutputError(path: path, reason: "cannot be created: \(OutputError.describe(errno: errno))")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.write(contentsOf: header.bytes)
            for (index, tensor) in tensors.enumerated() {
                let bytes = try tensor.produce()
                guard bytes.count == tensor.byteCount else {
                    throw GGUFError.malformed(file: path, field: "tensor \(tensor.name)",
                                              reason: "producer gave \(bytes.count) bytes, \(tensor.byteCount) expected")
                }
                try handle.write(contentsOf: bytes)
                let padding = (alignment - bytes.count % alignment) % alignment
                if padding > 0 { try handle.write(contentsOf: [UInt8](repeating: 0, count: padding)) }
                progress?(index + 1, tensors.count, tensor.name)
            }
        }
    }
}

/// Little-endian serialisation of GGUF header fields.
struct GGUFBytes {
    var bytes: [UInt8] = []

    mutating func append(contentsOf other: [UInt8]) { bytes.append(contentsOf: other) }
    mutating func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func append(string: String) {
        append(UInt64(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
    }
    mutating func pad(to alignment: Int) {
        let padding = (alignment - bytes.count % alignment) % alignment
        bytes.append(contentsOf: repeatElement(0, count: padding))
    }

    mutating func append(value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .float64(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let v): append(string: v)
        case .array(let type, let values):
            precondition(type != .array, "GGUF arrays of arrays are not readable by ggml")
            append(UInt32(type.rawValue))
            append(UInt64(values.count))
            for element in values {
                precondition(element.type == type, "GGUF array of \(type) holds a \(element.type)")
                append(value: element)
            }
        }
    }
}

/// One tensor's entry in a GGUF file: shape in ggml order (`shape[0]` is the row length, the
/// fastest-varying dimension — the reverse of the safetensors/PyTorch order), type, and where its
/// bytes lie relative to the start of the data section.
public struct GGUFTensorInfo: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var type: GGMLType
    public var offset: Int
    public var byteCount: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
        byteCount = shape.dropFirst().reduce(type.rowBytes(shape[0]), *)
    }

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed and validated GGUF header: version, metadata in file order, tensor infos, and where the
/// data section starts.
public struct GGUFHeader: Sendable {
    public static let magic: [UInt8] = Array("GGUF".utf8)
    public static let defaultAlignment = 32
    /// Longest tensor name ggml accepts (GGML_MAX_NAME − 1 bytes).
    public static let maximumNameBytes = 63

    public var version: UInt32
    public var metadata: [(key: String, value: GGUFValue)]
    public var tensors: [GGUFTensorInfo]
    public var alignment: Int
    /// Absolute file offset of the data section.
    public var dataOffset: Int

    /// The value of metadata `key`, or nil.
    public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    /// Parses `bytes` (the whole file), checking every count, length, type, shape, offset and size
    /// against the file before allocating for it.
    /// - Throws: ``GGUFError`` naming the field, key or tensor at fault.
    public static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> GGUFHeader {
        var reader = GGUFByteReader(bytes: bytes, file: file)
        let magic = try (0..<4).map { _ in try reader.read(UInt8.self, "magic") }
        guard magic == Self.magic else {
            throw GGUFError.malformed(file: file, field: "magic", reason: "is not 'GGUF' (not a GGUF file)")
        }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw GGUFError.unsupported(file: file, field: "version", reason: "\(version) (this reader reads versions 2 and 3)")
        }
        let tensorCount = try reader.read(UInt64.self, "tensor_count")
        let keyCount = try reader.read(UInt64.self, "metadata_kv_count")
        // Every key-value takes ≥ 13 bytes (key length, one key byte, type, 1-byte value); every tensor
        // info ≥ 30 (name length, one name byte, n_dims, one dim, type, offset).
        guard keyCount <= UInt64(reader.remaining / 13) else {
            throw GGUFError.malformed(file: file, field: "metadata_kv_count", reason: "\(keyCount) cannot fit in the file")
        }
        guard tensorCount <= UInt64(reader.remaining / 30) else {
            throw GGUFError.malformed(file: file, field: "tensor_count", reason: "\(tensorCount) cannot fit in the file")
        }
        var metadata: [(key: String, value: GGUFValue)] = []
        var keys = Set<String>()
        for index in 0..<Int(keyCount) {
            let key = try reader.readString("metadata[\(index)].key")
            guard !key.isEmpty else { throw GGUFError.malformed(file: file, field: "metadata[\(index)].key", reason: "is empty") }
            guard keys.insert(key).inserted else { throw GGUFError.malformed(file: file, field: key, reason: "appears twice") }
            let rawType = try reader.read(UInt32.self, "\(key).type")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError.malformed(file: file, field: key, reason: "has unknown value type \(rawType)")
            }
            metadata.append((key, try reader.readValue(type, field: key)))
        }
        var alignment = Self.defaultAlignment
        if let value = metadata.first(where: { $0.key == "general.alignment" })?.value {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
                throw GGUFError.malformed(file: file, field: "general.alignment", reason: "must be a uint32 power of two up to 2^20, is \(value.integer.map { "\(value.type) \($0)" } ?? "a \(value.type) value")")
            }
            alignment = Int(a)
        }
        var tensors: [GGUFTensorInfo] = []
        var names = Set<String>()
        for index in 0..<Int(tensorCount) {
            tensors.append(try reader.readTensorInfo(index: index, alignment: alignment))
            guard names.insert(tensors[index].name).inserted else {
                throw GGUFError.malformed(file: file, field: "tensor \(tensors[index].name)", reason: "appears twice")
            }
        }
        let dataOffset = (reader.offset + alignment - 1) / alignment * alignment
        let dataSize = bytes.count - dataOffset
        guard tensors.isEmpty || dataSize >= 0 else {
            throw GGUFError.malformed(file: file, field: "data", reason: "the file ends before the data section")
        }
        // As ggml's reader requires: tensor data back to back in tensor-info order, each padded to the alignment.
        var expected = 0
        for tensor in tensors {
            guard tensor.offset == expected else {
                throw GGUFError.malformed(file: file, field: "tensor \(tensor.name)",
                                          reason: "has offset \(tensor.offset), expected \(expected) (tensors must follow each other)")
            }
            let (last, overflow) = tensor.offset.addingReportingOverflow(tensor.byteCount)
            guard !overflow, last <= dataSize else {
                throw GGUFError.malformed(
                    file: file, field: "tensor \(tensor.name)",
                    reason: "bytes [\(tensor.offset), \(tensor.offset &+ tensor.byteCount)) lie beyond the data section (\(max(dataSize, 0)) bytes): truncated file?")
            }
            expected = (last + alignment - 1) / alignment * alignment
        }
        return GGUFHeader(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }
}

/// Bounds-checked little-endian reads over a file's bytes.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var offset = 0
    /// Longest string accepted (a tokenizer's chat template is the longest in practice).
    static let maximumStringBytes = 1 << 26

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: String) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw GGUFError.malformed(file: file, field: field, reason: "the file ends inside it (truncated)") }
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)])) }
        offset += size
        return T(littleEndian: value)
    }

    mutating func readString(_ field: String) throws -> String {
        let length = try read(UInt64.self, "\(field) length")
        guard length <= UInt64(remaining), length <= UInt64(Self.maximumStringBytes) else {
            throw GGUFError.malformed(file: file, field: field, reason: "string length \(length) exceeds the file")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))])
        offset += Int(length)
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw GGUFError.malformed(file: file, field: field, reason: "is not valid UTF-8")
        }
        return text
    }

    mutating func readValue(_ type: GGUFValueType, field: String) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, field))
        case .int8: return .int8(try read(Int8.self, field))
        case .uint16: return .uint16(try read(UInt16.self, field))
        case .int16: return .int16(try read(Int16.self, field))
        case .uint32: return .uint32(try read(UInt32.self, field))
        case .int32: return .int32(try read(Int32.self, field))
        case .uint64: return .uint64(try read(UInt64.self, field))
        case .int64: return .int64(try read(Int64.self, field))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, field)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, field)))
        case .bool:
            let byte = try read(UInt8.self, field)
            guard byte <= 1 else { throw GGUFError.malformed(file: file, field: field, reason: "bool holds \(byte)") }
            return .bool(byte == 1)
        case .string: return .string(try readString(field))
        case .array:
            let rawType = try read(UInt32.self, "\(field) element type")
            guard let element = GGUFValueType(rawValue: rawType) else {
                throw GGUFError.malformed(file: file, field: field, reason: "array of unknown type \(rawType)")
            }
            guard element != .array else {
                throw GGUFError.malformed(file: file, field: field, reason: "is an array of arrays, which ggml's reader refuses")
            }
            let count = try read(UInt64.self, "\(field) count")
            let minimum = element.fixedSize ?? (element == .string ? 8 : 12)
            guard count <= UInt64(remaining / minimum) else {
                throw GGUFError.malformed(file: file, field: field, reason: "array of \(count) elements exceeds the file")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for i in 0..<Int(count) { values.append(try readValue(element, field: "\(field)[\(i)]")) }
            return .array(type: element, values: values)
        }
    }

    mutating func readTensorInfo(index: Int, alignment: Int) throws -> GGUFTensorInfo {
        let name = try readString("tensor[\(index)].name")
        guard !name.isEmpty, name.utf8.count <= GGUFHeader.maximumNameBytes else {
            throw GGUFError.malformed(file: file, field: "tensor[\(index)].name",
                                      reason: "'\(name.prefix(80))' must be 1...\(GGUFHeader.maximumNameBytes) bytes")
        }
        let field = "tensor \(name)"
        let dimensions = try read(UInt32.self, "\(field) n_dims")
        guard (1...4).contains(dimensions) else {
            throw GGUFError.malformed(file: file, field: field, reason: "has \(dimensions) dimensions (1...4 allowed)")
        }
        var shape: [Int] = []
        var elements = 1
        for d in 0..<Int(dimensions) {
            let size = try read(UInt64.self, "\(field) ne[\(d)]")
            guard size >= 1, size <= UInt64(Int32.max) else {
                throw GGUFError.malformed(file: file, field: field, reason: "ne[\(d)] = \(size) is out of range")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(size))
            guard !overflow, product <= 1 << 40 else {
                throw GGUFError.malformed(file: file, field: field, reason: "has too many elements")
            }
            elements = product
            shape.append(Int(size))
        }
        let rawType = try read(UInt32.self, "\(field) type")
        guard let type = GGMLType(rawValue: rawType) else {
            throw GGUFError.unsupported(file: file, field: field,
                                        reason: "tensor type id \(rawType) (supported: \(GGMLType.allCases.map(\.name).joined(separator: ", ")))")
        }
        guard shape[0] % type.blockValues == 0 else {
            throw GGUFError.malformed(file: file, field: field,
                                      reason: "row length \(shape[0]) is not a multiple of \(type.name)'s block of \(type.blockValues)")
        }
        let offset = try read(UInt64.self, "\(field) offset")
        guard offset <= UInt64(Int.max / 2), offset % UInt64(alignment) == 0 else {
            throw GGUFError.malformed(file: file, field: field, reason: "offset \(offset) is not a multiple of the alignment \(alignment)")
        }
        return GGUFTensorInfo(name: name, shape: shape, type: type, offset: Int(offset))
    }
}

import Foundation
import QuantGateTensors

/// One tensor as a safetensors header describes it.
public struct TensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    public let name: String
    /// Element type.
    public let dtype: DType
    /// Dimensions, outermost first (row-major); `[]` for a scalar.
    public let shape: [Int]
    /// Byte range within the data buffer (which starts right after the header).
    public let dataRange: Range<Int>

    /// Number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Bytes of data.
    public var byteCount: Int { dataRange.count }

    public init(name: String, dtype: DType, shape: [Int], dataRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataRange = dataRange
    }
}

/// A validated safetensors header.
///
/// Layout: 8 bytes little-endian `N`, then `N` bytes of JSON (`{"name": {"dtype", "shape",
/// "data_offsets"}, …, "__metadata__": {string: string}}`, right-padded with spaces), then the data
/// buffer. Validation follows the reference reader and is strict: `N ≤ 100 MB` and inside the file,
/// well-formed JSON object, known dtypes, `shape × dtype size == span`, spans in bounds and sorted
/// without gap or overlap, and no trailing bytes.
public struct SafetensorsHeader: Sendable, Equatable {
    /// Largest header the format allows.
    public static let maximumHeaderLength: UInt64 = 100_000_000
    /// The key that holds the string-to-string metadata.
    public static let metadataKey = "__metadata__"

    /// Tensors in data order (ascending offsets).
    public let tensors: [TensorInfo]
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// `N`, the JSON length including padding.
    public let headerLength: Int

    /// Offset of the data buffer from the start of the file.
    public var dataStart: Int { 8 + headerLength }

    /// Parses and validates the header of a whole safetensors file held in `bytes`.
    /// - Parameters:
    ///   - bytes: the entire file (the data buffer's size is checked against it).
    ///   - file: the name used in error messages.
    /// - Throws: ``SafetensorsError`` naming the file, tensor and field at fault.
    public static func parse(fileBytes bytes: UnsafeRawBufferPointer, file: String) throws -> SafetensorsHeader {
        if let impostor = FileSniffer.impostor(bytes, file: file) { throw impostor }
        guard bytes.count >= 8 else { throw SafetensorsError.tooSmall(file: file, size: bytes.count) }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length <= maximumHeaderLength else {
            throw SafetensorsError.headerTooLarge(file: file, length: length)
        }
        guard Int(length) <= bytes.count - 8 else {
            throw SafetensorsError.headerOutOfBounds(file: file, length: length, fileSize: bytes.count)
        }
        let headerLength = Int(length)
        let json = Data(bytes[8..<(8 + headerLength)])
        guard json.first == UInt8(ascii: "{") else {
            throw SafetensorsError.malformedHeader(file: file, reason: "does not start with '{'")
        }
        let raw = try HeaderJSON.decode(json, file: file)
        let bufferSize = bytes.count - 8 - headerLength
        let tensors = try raw.entries.map { try validate($0, file: file, bufferSize: bufferSize) }
        let ordered = tensors.sorted { ($0.dataRange.lowerBound, $0.dataRange.upperBound, $0.name)
            < ($1.dataRange.lowerBound, $1.dataRange.upperBound, $1.name) }
        try checkCoverage(ordered, file: file, bufferSize: bufferSize)
        return SafetensorsHeader(tensors: ordered, metadata: raw.metadata, headerLength: headerLength)
    }

    /// Checks one entry's dtype, shape and span.
    private static func validate(_ entry: HeaderJSON.Entry, file: String, bufferSize: Int) throws -> TensorInfo {
        guard let dtype = DType(rawValue: entry.dtype) else {
            if DType.unsupportedNames.contains(entry.dtype) {
                throw SafetensorsError.unsupportedDType(file: file, tensor: entry.name, dtype: entry.dtype)
            }
            throw SafetensorsError.unknownDType(file: file, tensor: entry.name, dtype: entry.dtype)
        }
        var expectedBytes = dtype.byteSize
        for dimension in entry.shape {
            let (product, overflow) = expectedBytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw SafetensorsError.invalidField(
                    file: file, tensor: entry.name, field: "shape", reason: "\(entry.shape) is too large")
            }
            expectedBytes = product
        }
        let (begin, end) = (entry.begin, entry.end)
        guard begin <= end else {
            throw SafetensorsError.invalidField(
                file: file, tensor: entry.name, field: "data_offsets", reason: "[\(begin), \(end)] ends before it begins")
        }
        guard end <= bufferSize else {
            throw SafetensorsError.dataOutOfBounds(file: file, tensor: entry.name, end: end, bufferSize: bufferSize)
        }
        guard end - begin == expectedBytes else {
            throw SafetensorsError.sizeMismatch(
                file: file, tensor: entry.name, expectedBytes: expectedBytes, actualBytes: end - begin)
        }
        return TensorInfo(name: entry.name, dtype: dtype, shape: entry.shape, dataRange: begin..<end)
    }

    /// Checks that the sorted spans tile the data buffer exactly: no gap, no overlap, nothing after.
    private static func checkCoverage(_ tensors: [TensorInfo], file: String, bufferSize: Int) throws {
        var covered = 0
        var previous = ""
        for tensor in tensors {
            if tensor.dataRange.lowerBound > covered {
                throw SafetensorsError.gap(file: file, tensor: tensor.name, offset: covered)
            }
            if tensor.dataRange.lowerBound < covered {
                throw SafetensorsError.overlap(file: file, tensor: tensor.name, previous: previous)
            }
            covered = tensor.dataRange.upperBound
            previous = tensor.name
        }
        if covered < bufferSize {
            throw SafetensorsError.trailingBytes(file: file, count: bufferSize - covered)
        }
    }
}

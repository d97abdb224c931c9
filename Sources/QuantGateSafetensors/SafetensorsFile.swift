import QuantGateTensors

/// One memory-mapped `.safetensors` file with a validated header. Tensor bytes are read lazily,
/// straight from the mapping, one tensor at a time.
public final class SafetensorsFile: Sendable {
    /// The path the file was opened from (used in error messages).
    public let path: String
    /// The validated header: tensors in data order, and metadata.
    public let header: SafetensorsHeader
    private let mapping: MappedFile
    private let tensorIndex: [String: Int]

    /// Opens, maps and validates `path`.
    /// - Throws: ``SafetensorsError`` naming the file (and tensor) when anything is wrong.
    public init(path: String) throws {
        self.path = path
        mapping = try MappedFile(path: path)
        header = try SafetensorsHeader.parse(fileBytes: mapping.bytes, file: path)
        var index: [String: Int] = [:]
        for (position, tensor) in header.tensors.enumerated() {
            if index.updateValue(position, forKey: tensor.name) != nil {
                throw SafetensorsError.duplicateTensor(tensor: tensor.name, files: [path])
            }
        }
        tensorIndex = index
    }

    /// Tensors in data order.
    public var tensors: [TensorInfo] { header.tensors }

    /// The `__metadata__` map.
    public var metadata: [String: String] { header.metadata }

    /// The tensor named `name`, or nil.
    public func tensor(named name: String) -> TensorInfo? {
        tensorIndex[name].map { header.tensors[$0] }
    }

    /// Calls `body` with the raw little-endian bytes of `tensor` (valid only inside `body`). Afterwards the
    /// tensor's pages leave the resident set (``MappedFile/releasePages(_:)``), so a pass over the checkpoint
    /// holds one tensor's pages at a time, not the whole file.
    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = header.dataStart + tensor.dataRange.lowerBound
        defer { mapping.releasePages(start..<(start + tensor.byteCount)) }
        return try body(UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<(start + tensor.byteCount)]))
    }

    /// The values of the tensor named `name`, converted to f32 (row-major).
    /// - Throws: ``SafetensorsError/tensorNotFound(name:location:)``.
    public func floats(named name: String) throws -> [Float] {
        guard let tensor = tensor(named: name) else { throw SafetensorsError.tensorNotFound(name: name, location: path) }
        return withBytes(of: tensor) { Float32Conversion.decode($0, as: tensor.dtype) }
    }

    /// Rows `rows` (indices along the first dimension, in that order) of the tensor named `name`, converted
    /// to f32: `[rows.count, width]` row-major, where `width` is the product of the other dimensions. Only
    /// those rows are read; each run of consecutive rows is converted in one call.
    /// - Throws: ``SafetensorsError/tensorNotFound(name:location:)``.
    /// - Precondition: every row index is inside the tensor's first dimension.
    public func floats(named name: String, rows: [Int]) throws -> [Float] {
        guard let tensor = tensor(named: name) else { throw SafetensorsError.tensorNotFound(name: name, location: path) }
        let height = tensor.shape.first ?? 1
        let width = tensor.shape.dropFirst().reduce(1, *), rowBytes = width * tensor.dtype.byteSize
        precondition(rows.allSatisfy { $0 >= 0 && $0 < height }, "row outside \(name)")
        return withBytes(of: tensor) { bytes in
            [Float](unsafeUninitializedCapacity: rows.count * width) { out, initialized in
                var i = 0
                while i < rows.count {
                    var end = i + 1
                    while end < rows.count && rows[end] == rows[end - 1] + 1 { end += 1 }
                    let source = UnsafeRawBufferPointer(rebasing: bytes[(rows[i] * rowBytes)..<((rows[end - 1] + 1) * rowBytes)])
                    Float32Conversion.decode(source, as: tensor.dtype,
                                             into: UnsafeMutableBufferPointer(rebasing: out[(i * width)..<(end * width)]))
                    i = end
                }
                initialized = rows.count * width
            }
        }
    }
}

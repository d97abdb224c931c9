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
}

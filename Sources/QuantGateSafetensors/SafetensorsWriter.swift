import Foundation
import QuantGateOutput
import QuantGateTensors

/// A tensor to be written: its description, and a producer called once, when the writer reaches
/// it, for its little-endian bytes. Only one tensor's bytes are in memory at a time.
public struct PendingTensor: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    let produce: @Sendable () throws -> [UInt8]

    /// A tensor whose bytes are produced on demand.
    public init(name: String, dtype: DType, shape: [Int], bytes: @escaping @Sendable () throws -> [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        produce = bytes
    }

    /// A tensor whose bytes are already in memory.
    public init(name: String, dtype: DType, shape: [Int], data: [UInt8]) {
        self.init(name: name, dtype: dtype, shape: shape, bytes: { data })
    }

    /// Tensor `info` of `checkpoint` copied byte for byte (read when the writer reaches it).
    public static func copy(_ info: TensorInfo, from checkpoint: SafetensorsCheckpoint) -> PendingTensor {
        PendingTensor(name: info.name, dtype: info.dtype, shape: info.shape) {
            guard let (tensor, file) = checkpoint.locate(info.name) else {
                throw SafetensorsError.tensorNotFound(name: info.name, location: checkpoint.indexPath ?? checkpoint.files.first?.path ?? "checkpoint")
            }
            return file.withBytes(of: tensor) { Array($0) }
        }
    }

    var byteCount: Int { shape.reduce(dtype.byteSize, *) }

    /// Runs the producer: the tensor's bytes.
    public func bytes() throws -> [UInt8] { try produce() }
}

/// Writes safetensors files byte-identical to the Python `safetensors` package's for the same
/// tensors and metadata: tensors laid out by descending dtype rank then name, compact JSON with
/// `__metadata__` first (keys sorted), the header right-padded with spaces to a multiple of 8.
///
/// The file is written through ``OutputDestination``: streamed to a unique temporary sibling and renamed
/// onto `NAME` only once complete, so a failure never leaves a half-written file under the final name.
public enum SafetensorsWriter {
    /// Writes `tensors` and `metadata` to `path`.
    /// - Parameter replace: replace an existing file at `path` (otherwise it is an error).
    /// - Throws: ``SafetensorsError/invalidWrite(file:reason:)`` for duplicate names, a producer that
    ///   returns the wrong number of bytes; ``OutputError`` for an existing file or an I/O failure (in plain
    ///   words); nothing is left behind.
    public static func write(_ tensors: [PendingTensor], metadata: [String: String] = [:], to path: String, replace: Bool = false) throws {
        let ordered = try layout(tensors, file: path)
        let header = headerBytes(ordered, metadata: metadata)
        try OutputDestination(path, kind: .file, replace: replace).write { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
                throw OutputError(path: path, reason: "cannot be created: \(OutputError.describe(errno: errno))")
            }
            defer { try? handle.close() }
            var length = UInt64(header.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: header)
            for tensor in ordered {
                let bytes = try tensor.produce()
                guard bytes.count == tensor.byteCount else {
                    throw SafetensorsError.invalidWrite(
                        file: path,
                        reason: "tensor '\(tensor.name)': producer gave \(bytes.count) bytes, shape \(tensor.shape) × \(tensor.dtype.rawValue) needs \(tensor.byteCount)")
                }
                try handle.write(contentsOf: bytes)
            }
        }
    }

    /// The reference writer's order: descending dtype rank, then name (byte order).
    static func layout(_ tensors: [PendingTensor], file: String) throws -> [PendingTensor] {
        var seen = Set<String>()
        for tensor in tensors {
            guard seen.insert(tensor.name).inserted else {
                throw SafetensorsError.invalidWrite(file: file, reason: "tensor '\(tensor.name)' given twice")
            }
            guard tensor.name != SafetensorsHeader.metadataKey else {
                throw SafetensorsError.invalidWrite(file: file, reason: "'\(tensor.name)' is reserved for metadata")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError.invalidWrite(file: file, reason: "tensor '\(tensor.name)' has a negative dimension")
            }
        }
        return tensors.sorted {
            $0.dtype.referenceWriterRank != $1.dtype.referenceWriterRank
                ? $0.dtype.referenceWriterRank > $1.dtype.referenceWriterRank
                : Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8))
        }
    }

    /// The padded JSON header for tensors already in file order.
    static func headerBytes(_ ordered: [PendingTensor], metadata: [String: String]) -> Data {
        var json = "{"
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            members.append("\(jsonString(SafetensorsHeader.metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append(
                "\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += members.joined(separator: ",") + "}"
        var bytes = Data(json.utf8)
        let padded = (bytes.count + 7) / 8 * 8
        bytes.append(contentsOf: [UInt8](repeating: 0x20, count: padded - bytes.count))
        return bytes
    }

    /// A JSON string literal escaped as serde_json escapes it (`"`, `\`, and control characters).
    static func jsonString(_ text: String) -> String { JSONString.quote(text, asciiOnly: false) }
}

import CKernels
import Foundation
import QuantGateOutput

/// A GGUF file opened for reading: memory-mapped, its header validated, tensors read lazily.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let header: GGUFHeader
    private let data: Data

    /// Maps and validates `path`.
    /// - Throws: ``GGUFError`` naming what is wrong.
    public init(path: String) throws {
        self.path = path
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw GGUFError.unreadable(file: path, reason: OutputError.plainReason(error))
        }
        header = try data.withUnsafeBytes { try GGUFHeader.parse($0, file: path) }
    }

    public var tensors: [GGUFTensorInfo] { header.tensors }
    public subscript(key: String) -> GGUFValue? { header[key] }

    public func tensor(named name: String) -> GGUFTensorInfo? { header.tensors.first { $0.name == name } }

    /// The raw bytes of a tensor.
    public func withBytes<R>(of tensor: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { all in
            let start = header.dataOffset + tensor.offset
            return try body(UnsafeRawBufferPointer(rebasing: all[start..<(start + tensor.byteCount)]))
        }
    }

    /// The tensor's values as f32, dequantized (ggml order: rows of `shape[0]` values).
    /// - Throws: ``GGUFError/tensorNotFound(file:name:)``.
    public func floats(named name: String) throws -> (info: GGUFTensorInfo, values: [Float]) {
        guard let info = tensor(named: name) else { throw GGUFError.tensorNotFound(file: path, name: name) }
        return (info, withBytes(of: info) { GGUFDequantizer.floats($0, type: info.type, count: info.elementCount) })
    }
}

/// Converts stored tensor bytes of any supported type to f32.
public enum GGUFDequantizer {
    /// `count` values from `bytes` (which hold exactly `type.rowBytes(count)` bytes).
    public static func floats(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        guard count > 0 else { return values }
        values.withUnsafeMutableBufferPointer { out in
            let destination = out.baseAddress!
            switch type {
            case .f32:
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(count * 4)))
                for i in 0..<count { destination[i] = Float(bitPattern: UInt32(littleEndian: destination[i].bitPattern)) }
            case .f16:
                let halves = bytes.bindMemory(to: UInt16.self)
                qg_f16_to_f32(halves.baseAddress!, destination, Int64(count))
            case .bf16:
                let halves = bytes.bindMemory(to: UInt16.self)
                qg_bf16_to_f32(halves.baseAddress!, destination, Int64(count))
            default:
                let status = qg_dequantize(Int32(type.rawValue), bytes.baseAddress!, destination, Int64(count))
                precondition(status == 0, "dequantize \(type.name): \(count) values")
            }
        }
        return values
    }
}

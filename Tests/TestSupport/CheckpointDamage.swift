import Foundation
import QuantGateSafetensors
@_exported import enum QuantGateTensors.DType
import QuantGateTensors

/// Deliberately damaged copies of a model directory, for tests that every command refuses what a broken
/// export or a corrupted download produces: a NaN weight, a weight stored as integers, a bad config field.
public enum CheckpointDamage {
    /// Copies every file of the model directory `source` into a fresh temporary directory.
    public static func copy(_ source: URL) throws -> URL {
        let directory = try Fixtures.temporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        return directory
    }

    /// Rewrites `directory/model.safetensors` with element `index` of tensor `name` set to `value`, stored in the
    /// tensor's own dtype (a float dtype, or I32 for packed and index tensors), everything else byte for byte.
    public static func setElement(_ index: Int, of name: String, to value: Float, in directory: URL) throws {
        try rewrite(name, in: directory) { tensor, bytes in
            var bytes = bytes
            let size = tensor.dtype.byteSize
            let element = tensor.dtype == .int32
                ? (0..<4).map { UInt8(truncatingIfNeeded: Int32(value) >> (8 * $0)) }
                : Float32Conversion.encode([value], as: tensor.dtype)
            bytes.replaceSubrange((index * size)..<((index + 1) * size), with: element)
            return (tensor.dtype, bytes)
        }
    }

    /// Rewrites `directory/model.safetensors` with tensor `name` stored as `dtype` (I8, I32 or BOOL), same shape,
    /// its values scaled by 100 and truncated (BOOL: non-zero).
    public static func store(_ name: String, as dtype: DType, in directory: URL) throws {
        try rewrite(name, in: directory) { tensor, bytes in
            let values = bytes.withUnsafeBytes { Float32Conversion.decode($0, as: tensor.dtype) }
            let scaled = values.map { Int32(clamping: Int(($0 * 100).rounded(.towardZero))) }
            switch dtype {
            case .int8: return (dtype, scaled.map { UInt8(bitPattern: Int8(clamping: $0)) })
            case .int32: return (dtype, scaled.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } })
            case .bool: return (dtype, scaled.map { $0 == 0 ? 0 : 1 })
            default: preconditionFailure("store(_:as:in:) writes I8, I32 or BOOL, not \(dtype.rawValue)")
            }
        }
    }

    /// Rewrites `directory/config.json` (or another JSON file of it) with `field` set to the JSON text `value`.
    public static func setField(_ field: String, to value: String, in directory: URL, file: String = "config.json") throws {
        let url = directory.appendingPathComponent(file)
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        object[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: url)
    }

    /// Rewrites `directory/model.safetensors` with tensor `name`'s stored bytes replaced by `replace`'s dtype and bytes.
    private static func rewrite(_ name: String, in directory: URL,
                                replace: (TensorInfo, [UInt8]) throws -> (DType, [UInt8])) throws {
        let path = directory.appendingPathComponent(SafetensorsCheckpoint.singleFileName).path
        let checkpoint = try SafetensorsCheckpoint(path: path)
        let file = checkpoint.files[0]
        var tensors: [PendingTensor] = []
        for tensor in file.tensors {
            guard tensor.name == name else {
                tensors.append(.copy(tensor, from: checkpoint))
                continue
            }
            let (dtype, bytes) = try replace(tensor, file.withBytes(of: tensor) { Array($0) })
            tensors.append(PendingTensor(name: name, dtype: dtype, shape: tensor.shape, data: bytes))
        }
        try SafetensorsWriter.write(tensors, metadata: file.metadata, to: path, replace: true)
    }
}

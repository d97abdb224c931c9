import CKernels
import Dispatch
import QuantGateSafetensors
import QuantGateTensors

/// The one finite-values scan: every command runs it over a source checkpoint before using it (through
/// ``ModelDirectory/validate(progress:)``), and exporters over the values they are about to write.
///
/// Stored tensors are decoded to f32 chunk by chunk (the chunks of one tensor in parallel) and each chunk is
/// scanned by the SIMD `qg_absmax_f32` kernel, so memory stays at a few chunks whatever the model's size.
public enum FiniteScan {
    /// A non-finite element: its flat (row-major) index and its value.
    public struct Finding: Sendable {
        public var index: Int
        public var value: Float
    }

    /// Elements decoded and scanned per chunk (1 MiB of f32).
    static let chunkElements = 1 << 18

    /// The first NaN or ±Inf of `values`, or nil when every value is finite.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Finding? {
        guard let base = values.baseAddress else { return nil }
        var bad: Int64 = -1
        _ = qg_absmax_f32(base, Int64(values.count), &bad)
        return bad >= 0 ? Finding(index: Int(bad), value: values[Int(bad)]) : nil
    }

    /// Throws when `values`, tensor `tensor` of `file` as read for writing, hold a NaN or ±Inf.
    /// - Throws: ``ModelError/nonFiniteWeight(file:tensor:index:value:)`` naming the first such element.
    public static func check(_ values: [Float], tensor: String, file: String) throws(ModelError) {
        if let found = values.withUnsafeBufferPointer(firstNonFinite) {
            throw .nonFiniteWeight(file: file, tensor: tensor, index: found.index, value: found.value)
        }
    }

    /// The first NaN or ±Inf of the float tensor `tensor` stored in `file`, or nil (also for a non-float dtype,
    /// which holds no NaN).
    public static func firstNonFinite(_ tensor: TensorInfo, in file: SafetensorsFile) -> Finding? {
        guard tensor.dtype.isFloatingPoint, tensor.elementCount > 0 else { return nil }
        let (count, size) = (tensor.elementCount, tensor.dtype.byteSize)
        let chunks = (count + chunkElements - 1) / chunkElements
        var firsts = [Int](repeating: -1, count: chunks)
        file.withBytes(of: tensor) { bytes in
            let source = UnsafeSendable(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
            firsts.withUnsafeMutableBufferPointer { firsts in
                let results = UnsafeSendable(firsts.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let start = chunk * chunkElements, length = min(chunkElements, count - start)
                    var decoded = [Float](repeating: 0, count: length)
                    decoded.withUnsafeMutableBufferPointer { out in
                        Float32Conversion.decode(UnsafeRawBufferPointer(start: source.pointer + start * size, count: length * size),
                                                 as: tensor.dtype, into: out)
                    }
                    if let found = decoded.withUnsafeBufferPointer(firstNonFinite) { results.pointer[chunk] = start + found.index }
                }
            }
        }
        guard let index = firsts.first(where: { $0 >= 0 }) else { return nil }
        return Finding(index: index, value: value(at: index, of: tensor, in: file))
    }

    /// Throws for the first tensor of `checkpoint` (in file order) that holds a NaN or ±Inf.
    /// - Parameter progress: after each tensor: (done, total, name).
    /// - Throws: ``ModelError/nonFiniteWeight(file:tensor:index:value:)`` naming the file, tensor and element.
    public static func check(_ checkpoint: SafetensorsCheckpoint, progress: ((Int, Int, String) -> Void)? = nil) throws(ModelError) {
        let total = checkpoint.tensors.count
        var done = 0
        for file in checkpoint.files {
            for tensor in file.tensors {
                if let found = firstNonFinite(tensor, in: file) {
                    throw .nonFiniteWeight(file: file.path, tensor: tensor.name, index: found.index, value: found.value)
                }
                done += 1
                progress?(done, total, tensor.name)
            }
        }
    }

    /// Element `index` of `tensor`, decoded on its own.
    private static func value(at index: Int, of tensor: TensorInfo, in file: SafetensorsFile) -> Float {
        let size = tensor.dtype.byteSize
        return file.withBytes(of: tensor) { bytes in
            Float32Conversion.decode(UnsafeRawBufferPointer(rebasing: bytes[(index * size)..<((index + 1) * size)]), as: tensor.dtype)[0]
        }
    }
}

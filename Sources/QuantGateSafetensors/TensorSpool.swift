#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import QuantGateOutput

/// Tensor bytes parked on disk between the moment they are computed and the moment an artefact's
/// writer reaches them, so a quantizer that finishes the model block by block holds one block's
/// results in memory, not the model's.
///
/// The spool is a temporary file created in a directory the caller names (the artefact's own, so it
/// uses the disk the artefact will) and unlinked at once: it has no name to clean up, and the kernel
/// frees its blocks when the spool is released or the process dies, whatever the cause.
public final class TensorSpool: @unchecked Sendable {
    private let descriptor: Int32
    /// The directory, for error messages.
    private let directory: String
    private var end = 0
    private let lock = NSLock()

    /// Creates the spool's file in `directory` and unlinks it.
    /// - Throws: ``OutputError`` naming `directory` when no file can be created there.
    public init(directory: String) throws {
        self.directory = directory
        var template = Array((directory + "/.quantgate-spool-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw OutputError(path: directory, reason: "cannot hold a temporary file: \(OutputError.describe(errno: errno))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Bytes written so far.
    public var byteCount: Int { lock.withLock { end } }

    /// Parks `tensor`'s bytes and returns a tensor that reads them back when a writer asks.
    /// - Throws: ``OutputError`` when the disk refuses the bytes (full, read-only), or what producing them throws.
    public func park(_ tensor: PendingTensor) throws -> PendingTensor {
        let bytes = try tensor.bytes()
        let offset = try append(bytes)
        let count = bytes.count
        return PendingTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape) { [self] in try read(offset: offset, count: count) }
    }

    private func append(_ bytes: [UInt8]) throws -> Int {
        try lock.withLock {
            let offset = end
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + written, bytes.count - written, off_t(offset + written)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw failure("cannot hold the quantized tensors", code: n < 0 ? errno : ENOSPC) }
                written += n
            }
            end += bytes.count
            return offset
        }
    }

    private func read(offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("cannot read back the quantized tensors", code: n < 0 ? errno : 0) }
            done += n
        }
        return bytes
    }

    private func failure(_ what: String, code: Int32) -> OutputError {
        OutputError(path: directory, reason: "\(what) in a temporary file: \(code == 0 ? "unexpected end of file" : OutputError.describe(errno: code))")
    }
}

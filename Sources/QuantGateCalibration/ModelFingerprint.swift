import Crypto
import Foundation
import QuantGateModel

/// A model's content hash: SHA-256 over `config.json`'s bytes, then every tensor in name order
/// (name, dtype, shape, raw bytes). Re-sharding or reordering a checkpoint keeps the hash; changing
/// one weight or one config value changes it.
public enum ModelFingerprint {
    /// - Returns: the hash in lowercase hex.
    /// - Throws: when config.json cannot be read.
    public static func compute(_ directory: ModelDirectory) throws -> String {
        var hasher = SHA256()
        let configPath = URL(fileURLWithPath: directory.path).appendingPathComponent("config.json").path
        guard let config = FileManager.default.contents(atPath: configPath) else {
            throw CalibrationDataError.unreadable(path: configPath, reason: "cannot be read")
        }
        func add(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { hasher.update(bufferPointer: $0) } }
        func add(_ text: String) {
            add(Int64(text.utf8.count))
            hasher.update(data: Data(text.utf8))
        }
        add(Int64(config.count))
        hasher.update(data: config)
        let checkpoint = directory.checkpoint
        for name in checkpoint.tensors.map(\.name).sorted() {
            guard let (tensor, file) = checkpoint.locate(name) else { continue }
            add(name)
            add(tensor.dtype.rawValue)
            add(Int64(tensor.shape.count))
            for dimension in tensor.shape { add(Int64(dimension)) }
            add(Int64(tensor.byteCount))
            file.withBytes(of: tensor) { hasher.update(bufferPointer: $0) }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

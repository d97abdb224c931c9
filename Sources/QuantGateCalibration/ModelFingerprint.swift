import Crypto
import Foundation
import QuantGateModel
import QuantGateOutput

/// A model's content hash: SHA-256 over `config.json`'s bytes, then every tensor in name order
/// (name, dtype, shape, raw bytes). Re-sharding or reordering a checkpoint keeps the hash; changing
/// one weight or one config value changes it.
public enum ModelFingerprint {
    /// - Returns: the hash in lowercase hex.
    /// - Throws: when config.json cannot be read.
    public static func compute(_ directory: ModelDirectory) throws -> String {
        var hasher = SHA256()
        let configPath = URL(fileURLWithPath: directory.path).appendingPathComponent("config.json").path
        let config: Data
        do { config = try Data(contentsOf: URL(fileURLWithPath: configPath)) } catch {
            throw CalibrationDataError.unreadable(path: configPath, reason: OutputError.plainReason(error))
        }
        hasher.update(int64: Int64(config.count))
        hasher.update(data: config)
        let checkpoint = directory.checkpoint
        for name in checkpoint.tensors.map(\.name).sorted() {
            guard let (tensor, file) = checkpoint.locate(name) else { continue }
            hasher.update(lengthPrefixed: name)
            hasher.update(lengthPrefixed: tensor.dtype.rawValue)
            hasher.update(int64: Int64(tensor.shape.count))
            for dimension in tensor.shape { hasher.update(int64: Int64(dimension)) }
            hasher.update(int64: Int64(tensor.byteCount))
            file.withBytes(of: tensor) { hasher.update(bufferPointer: $0) }
        }
        return hasher.hexDigest()
    }
}

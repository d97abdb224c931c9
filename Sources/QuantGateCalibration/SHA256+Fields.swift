import Crypto
import Foundation

/// The field encodings every QuantGate hash uses (data hash, model hash, statistics checksum), kept
/// in one place so that the documented layouts cannot drift apart.
extension SHA256 {
    /// Adds `value` as 8 little-endian bytes.
    public mutating func update(int64 value: Int64) {
        withUnsafeBytes(of: value.littleEndian) { update(bufferPointer: $0) }
    }

    /// Adds a string as its UTF-8 length (i64 LE) and bytes.
    public mutating func update(lengthPrefixed text: String) {
        update(int64: Int64(text.utf8.count))
        update(data: Data(text.utf8))
    }

    /// The digest in lowercase hex.
    public func hexDigest() -> String {
        finalize().map { String(format: "%02x", $0) }.joined()
    }
}

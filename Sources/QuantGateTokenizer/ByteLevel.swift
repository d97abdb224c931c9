/// GPT-2's reversible map between the 256 byte values and 256 printable characters, which
/// byte-level BPE vocabularies are written in (`Ġ` is the space byte 0x20, `Ċ` is 0x0A).
///
/// Bytes `!`…`~`, 0xA1…0xAC and 0xAE…0xFF map to the code point of the same value; the other 68
/// bytes map, in increasing order, to U+0100, U+0101, … (as `bytes_to_unicode` in GPT-2's
/// encoder.py and `bytes_char` in `tokenizers`).
enum ByteLevel {
    /// The scalar value that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte each of the 256 characters stands for, indexed by scalar value (< 0x144); -1 for
    /// scalars that are not in the alphabet.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    /// The raw bytes a byte-level token string stands for, or nil when one of its characters is
    /// outside the 256-character alphabet (added tokens such as `<|eot_id|>` are plain text, but
    /// every character of them happens to be in the alphabet too).
    static func bytes(ofToken token: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            let value = Int(scalar.value)
            guard value < byteForScalar.count, byteForScalar[value] >= 0 else { return nil }
            result.append(UInt8(byteForScalar[value]))
        }
        return result
    }

    /// The byte-level spelling of raw bytes (each byte becomes one character of the alphabet).
    static func token(ofBytes bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            if let scalar = Unicode.Scalar(scalarForByte[Int(byte)]) { scalars.append(scalar) }
        }
        return String(scalars)
    }
}

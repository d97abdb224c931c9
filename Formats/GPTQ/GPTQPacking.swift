/// The int32 packing of GPTQ checkpoints (../shared/design/FORMATS.md §3.1): `qweight` packs codes along
/// the input dimension (word `[w, o]` holds inputs `k·w … k·w + k − 1` of output `o`, input `k·w + j` at
/// bits `bits·j`, `k = 32 / bits`); `qzeros` packs stored zeros along the output dimension alike.
public enum GPTQPacking {
    /// `qweight` `[columns / k, rows]` from codes `[rows, columns]` (row-major, one code per byte).
    public static func packWeight(codes: [UInt8], rows: Int, columns: Int, bits: Int) -> [Int32] {
        let k = 32 / bits
        var words = [UInt32](repeating: 0, count: columns / k * rows)
        for r in 0..<rows {
            for c in 0..<columns {
                words[(c / k) * rows + r] |= UInt32(codes[r * columns + c]) << UInt32(bits * (c % k))
            }
        }
        return words.map { Int32(bitPattern: $0) }
    }

    /// Codes `[rows, columns]` from `qweight` `[columns / k, rows]`.
    public static func unpackWeight(_ words: [Int32], rows: Int, columns: Int, bits: Int) -> [UInt8] {
        let k = 32 / bits, mask = UInt32((1 << bits) - 1)
        var codes = [UInt8](repeating: 0, count: rows * columns)
        for w in 0..<(columns / k) {
            for r in 0..<rows {
                let word = UInt32(bitPattern: words[w * rows + r])
                for j in 0..<k { codes[r * columns + w * k + j] = UInt8((word >> UInt32(bits * j)) & mask) }
            }
        }
        return codes
    }

    /// `qzeros` `[groups, rows / k]` from true zero points `[groups, rows]`. v1 (`offset` 1) stores each word
    /// minus a 1 in every field, as GPTQModel's v2→v1 conversion does (whole-word arithmetic, so a zero of
    /// 0 borrows from its neighbour; QuantGate's quantizer never writes one in v1, keeping every reader exact).
    public static func packZeros(_ zeros: [Int32], groups: Int, rows: Int, bits: Int, offset: Int32) -> [Int32] {
        let k = 32 / bits, mask = UInt32((1 << bits) - 1)
        var words = [UInt32](repeating: 0, count: groups * rows / k)
        for g in 0..<groups {
            for r in 0..<rows {
                words[g * (rows / k) + r / k] |= (UInt32(bitPattern: zeros[g * rows + r]) & mask) << UInt32(bits * (r % k))
            }
        }
        let step = offsetWord(bits: bits) &* UInt32(bitPattern: offset)
        return words.map { Int32(bitPattern: $0 &- step) }
    }

    /// True zero points `[groups, rows]` from `qzeros`: v1 words get a 1 added back in every field before the
    /// fields are read, as GPTQModel's v1→v2 conversion does (which also recovers a zero of 0 written by it).
    public static func unpackZeros(_ words: [Int32], groups: Int, rows: Int, bits: Int, offset: Int32) -> [Int32] {
        let k = 32 / bits, mask = UInt32((1 << bits) - 1)
        let step = offsetWord(bits: bits) &* UInt32(bitPattern: offset)
        var zeros = [Int32](repeating: 0, count: groups * rows)
        for g in 0..<groups {
            for r in 0..<rows {
                let word = UInt32(bitPattern: words[g * (rows / k) + r / k]) &+ step
                zeros[g * rows + r] = Int32((word >> UInt32(bits * (r % k))) & mask)
            }
        }
        return zeros
    }

    /// A 1 in every `bits`-wide field of a word: `0x11111111` for 4 bits, `0x01010101` for 8, `0x55555555` for 2.
    static func offsetWord(bits: Int) -> UInt32 {
        (0..<(32 / bits)).reduce(UInt32(0)) { $0 | (1 << UInt32(bits * $1)) }
    }
}

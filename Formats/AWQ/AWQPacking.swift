/// The int32 packing of AutoAWQ GEMM checkpoints (../shared/design/FORMATS.md §2.2): 4-bit values packed
/// along the *output* dimension, eight per word, interleaved: nibble `j` of word `c` holds output
/// `8c + order[j]` with `order = [0, 2, 4, 6, 1, 3, 5, 7]`. `qweight` `[in, out / 8]` packs each input
/// column's codes across outputs, `qzeros` `[groups, out / 8]` each group's zero points alike.
public enum AWQPacking {
    /// Which output of a run of eight each nibble holds.
    public static let order = [0, 2, 4, 6, 1, 3, 5, 7]

    /// Words `[lines, outputs / 8]` from 4-bit values where `value(line, output)` is in `0 ..< 16`.
    static func pack(lines: Int, outputs: Int, value: (Int, Int) -> UInt32) -> [Int32] {
        let wordsPerLine = outputs / 8
        var words = [Int32](repeating: 0, count: lines * wordsPerLine)
        for line in 0..<lines {
            for c in 0..<wordsPerLine {
                var word: UInt32 = 0
                for (j, output) in order.enumerated() { word |= (value(line, 8 * c + output) & 0xF) << UInt32(4 * j) }
                words[line * wordsPerLine + c] = Int32(bitPattern: word)
            }
        }
        return words
    }

    /// Calls `store(line, output, value)` for every value in `words` `[lines, outputs / 8]`.
    static func unpack(_ words: [Int32], lines: Int, outputs: Int, store: (Int, Int, UInt8) -> Void) {
        let wordsPerLine = outputs / 8
        for line in 0..<lines {
            for c in 0..<wordsPerLine {
                let word = UInt32(bitPattern: words[line * wordsPerLine + c])
                for (j, output) in order.enumerated() { store(line, 8 * c + output, UInt8((word >> UInt32(4 * j)) & 0xF)) }
            }
        }
    }

    /// `qweight` `[columns, rows / 8]` from codes `[rows, columns]` (rows are outputs, row-major, one code per byte).
    public static func packWeight(codes: [UInt8], rows: Int, columns: Int) -> [Int32] {
        pack(lines: columns, outputs: rows) { c, r in UInt32(codes[r * columns + c]) }
    }

    /// Codes `[rows, columns]` from `qweight` `[columns, rows / 8]`.
    public static func unpackWeight(_ words: [Int32], rows: Int, columns: Int) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: rows * columns)
        unpack(words, lines: columns, outputs: rows) { c, r, q in codes[r * columns + c] = q }
        return codes
    }

    /// `qzeros` `[groups, rows / 8]` from zero points `[groups, rows]` (stored as they are, no offset).
    public static func packZeros(_ zeros: [Int32], groups: Int, rows: Int) -> [Int32] {
        pack(lines: groups, outputs: rows) { g, r in UInt32(bitPattern: zeros[g * rows + r]) }
    }

    /// Zero points `[groups, rows]` from `qzeros` `[groups, rows / 8]`.
    public static func unpackZeros(_ words: [Int32], groups: Int, rows: Int) -> [Int32] {
        var zeros = [Int32](repeating: 0, count: groups * rows)
        unpack(words, lines: groups, outputs: rows) { g, r, z in zeros[g * rows + r] = Int32(z) }
        return zeros
    }
}

/// One Linear on an integer grid with a scale and zero point per (group, output row), and the group of each
/// input column: what the GPTQ and AWQ quantizers produce and what their checkpoints unpack to (AWQ's
/// groups are always consecutive runs of input columns; GPTQ's act-order may interleave them).
public struct GroupQuantizedLinear: Sendable, Equatable {
    public let rows: Int, columns: Int
    /// `[rows, columns]` row-major, each in `0 ..< 2^bits`.
    public let codes: [UInt8]
    /// `[groups, rows]`: scales (f16 values in f32) and true zero points.
    public let scales: [Float]
    public let zeros: [Int32]
    /// `[columns]`: each input column's group (`g_idx`).
    public let groupIndex: [Int32]

    public init(rows: Int, columns: Int, codes: [UInt8], scales: [Float], zeros: [Int32], groupIndex: [Int32]) {
        (self.rows, self.columns, self.codes, self.scales, self.zeros, self.groupIndex) = (rows, columns, codes, scales, zeros, groupIndex)
    }

    public var groups: Int { scales.count / max(rows, 1) }

    /// `scale[g_idx[c], r] · (q[r, c] − zero[g_idx[c], r])`, `[rows, columns]`, in f32 (exact for f16 scales):
    /// the weights a loader computes.
    public func dequantized() -> [Float] {
        var w = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                let g = Int(groupIndex[c]) * rows + r
                w[r * columns + c] = scales[g] * (Float(codes[r * columns + c]) - Float(zeros[g]))
            }
        }
        return w
    }
}

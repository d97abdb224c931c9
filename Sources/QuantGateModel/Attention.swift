import CBLAS
import Foundation
import QuantGateTensors

/// Causal grouped-query attention over one window: query head `h` attends with key/value head
/// `h / (heads / kvHeads)`; `softmax(QKᵀ/√d + causal mask) · V`, f32 throughout.
enum Attention {
    /// - Parameters:
    ///   - q: `[T, heads · d]`, rotated.
    ///   - k, v: `[queryOffset + T, kvHeads · d]`, k rotated: the cached positions, then the query's own.
    ///   - queryOffset: the position of the first query row; query row `i` sees keys `0...queryOffset + i`.
    /// - Returns: `[T, heads · d]`, heads concatenated as o_proj expects.
    static func causal(q: Matrix, k: Matrix, v: Matrix, heads: Int, kvHeads: Int, headDim d: Int,
                       queryOffset: Int = 0) -> Matrix {
        let t = q.rows
        precondition(k.rows == queryOffset + t && v.rows == k.rows, "attention: keys must cover the queries' positions")
        let group = heads / kvHeads
        let scale = 1 / Float(d).squareRoot()
        var out = Matrix(rows: t, columns: heads * d)
        var scores = [Float](repeating: 0, count: min(t, rowBlock) * (queryOffset + t))
        // Row blocks [r0, r1) only need keys 0..<r1: skipping the masked upper triangle block by
        // block saves ~40 % of the attention GEMM work at T = 512.
        for head in 0..<heads {
            let kvHead = head / group
            for r0 in stride(from: 0, to: t, by: rowBlock) {
                let r1 = min(t, r0 + rowBlock)
                let (rows, keys) = (r1 - r0, queryOffset + r1)
                q.values.withUnsafeBufferPointer { qp in
                    k.values.withUnsafeBufferPointer { kp in
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(keys), Int32(d), scale,
                                    qp.baseAddress! + r0 * heads * d + head * d, Int32(heads * d),
                                    kp.baseAddress! + kvHead * d, Int32(kvHeads * d), 0, &scores, Int32(keys))
                    }
                }
                scores.withUnsafeMutableBufferPointer { buffer in
                    let block = UnsafeSendable(buffer.baseAddress!)
                    Kernels.parallelRows(rows) { i in
                        softmaxCausalRow(block.pointer + i * keys, visible: queryOffset + r0 + i + 1, width: keys)
                    }
                }
                v.values.withUnsafeBufferPointer { vp in
                    out.values.withUnsafeMutableBufferPointer { op in
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(keys), 1,
                                    scores, Int32(keys), vp.baseAddress! + kvHead * d, Int32(kvHeads * d), 0,
                                    op.baseAddress! + r0 * heads * d + head * d, Int32(heads * d))
                    }
                }
            }
        }
        return out
    }

    /// Query rows per attention block.
    private static let rowBlock = 128

    /// Softmax over the first `visible` entries of a row; the rest (future positions) become 0.
    private static func softmaxCausalRow(_ row: UnsafeMutablePointer<Float>, visible: Int, width: Int) {
        var maximum = -Float.infinity
        for j in 0..<visible { maximum = max(maximum, row[j]) }
        var sum: Float = 0
        for j in 0..<visible {
            let e = exp(row[j] - maximum)
            row[j] = e
            sum += e
        }
        let inverse = 1 / sum
        for j in 0..<visible { row[j] *= inverse }
        for j in visible..<width { row[j] = 0 }
    }
}

import CKernels
import Dispatch
import QuantGateFormats
import QuantGateTensors

/// AutoAWQ's asymmetric 4-bit group grid over whole weight matrices (`[rows, columns]`, row-major), on the
/// C kernels of `qg_awq.h`. Rows run in fixed chunks on all cores, so results never depend on the core count.
public enum AWQGrid {
    /// Rows per parallel chunk.
    static let chunk = 16

    private static func eachChunk(rows: Int, _ body: @Sendable (_ first: Int, _ count: Int) -> Void) {
        DispatchQueue.concurrentPerform(iterations: (rows + chunk - 1) / chunk) { index in
            body(index * chunk, min(chunk, rows - index * chunk))
        }
    }

    /// `Q(w · s) / s` with `s` the per-column scale (nil: `Q(w)`): an α candidate's weights.
    public static func fakeQuantized(_ w: [Float], rows: Int, columns: Int, groupSize: Int, columnScale: [Float]? = nil) -> [Float] {
        var out = [Float](repeating: 0, count: w.count)
        let scale = columnScale ?? []
        w.withUnsafeBufferPointer { source in
            scale.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { destination in
                    let (src, dst) = (UnsafeSendable(source.baseAddress!), UnsafeSendable(destination.baseAddress!))
                    let ss = columnScale == nil ? nil : s.baseAddress.map { UnsafeSendable($0) }
                    eachChunk(rows: rows) { first, count in
                        qg_awq_fake_quantize(src.pointer + first * columns, Int64(count), Int64(columns), Int64(groupSize),
                                             ss?.pointer, dst.pointer + first * columns)
                    }
                }
            }
        }
        return out
    }

    /// The codes, zeros and scales a checkpoint stores: codes from AutoAWQ's f32 scales, scales then
    /// rounded to f16 (what `WQLinear_GEMM.from_linear` keeps).
    public static func quantize(_ w: [Float], rows: Int, columns: Int, groupSize: Int) -> GroupQuantizedLinear {
        let groups = columns / groupSize
        var codes = [UInt8](repeating: 0, count: w.count)
        var scale = [Float](repeating: 0, count: rows * groups), zero = scale
        w.withUnsafeBufferPointer { source in
            codes.withUnsafeMutableBufferPointer { c in
                scale.withUnsafeMutableBufferPointer { s in
                    zero.withUnsafeMutableBufferPointer { z in
                        let src = UnsafeSendable(source.baseAddress!), cc = UnsafeSendable(c.baseAddress!)
                        let ss = UnsafeSendable(s.baseAddress!), zz = UnsafeSendable(z.baseAddress!)
                        eachChunk(rows: rows) { first, count in
                            let (n, k, g) = (Int64(count), Int64(columns), Int64(groupSize))
                            qg_awq_quantize(src.pointer + first * columns, n, k, g, cc.pointer + first * columns,
                                            ss.pointer + first * groups, zz.pointer + first * groups)
                        }
                    }
                }
            }
        }
        // [rows, groups] → the checkpoint's [groups, rows], scales as f16.
        var scales = [Float](repeating: 0, count: rows * groups), zeros = [Int32](repeating: 0, count: rows * groups)
        for r in 0..<rows {
            for g in 0..<groups {
                scales[g * rows + r] = Float(Float16(scale[r * groups + g]))
                zeros[g * rows + r] = Int32(zero[r * groups + g])
            }
        }
        return GroupQuantizedLinear(rows: rows, columns: columns, codes: codes, scales: scales, zeros: zeros,
                                    groupIndex: (0..<columns).map { Int32($0 / groupSize) })
    }

    /// Each group's `XᵀX / tokens` over `sample` (`[tokens, columns]`, a Linear's inputs as scaled),
    /// `[columns / g][g, g]`: the mean squared partial output of a weight difference d is dᵀ G d. Linears
    /// reading the same input (gate and up) share one.
    public static func groupGrams(sample: Matrix, groupSize g: Int) -> [Float] {
        let (columns, groups) = (sample.columns, sample.columns / g)
        var gram = [Float](repeating: 0, count: groups * g * g)
        sample.values.withUnsafeBufferPointer { x in
            gram.withUnsafeMutableBufferPointer { out in
                let (xx, gg) = (UnsafeSendable(x.baseAddress!), UnsafeSendable(out.baseAddress!))
                DispatchQueue.concurrentPerform(iterations: groups) { group in
                    BLAS.serialGEMM(transposeA: true, m: g, n: g, k: sample.rows, alpha: 1 / Float(sample.rows),
                                    a: xx.pointer + group * g, lda: columns, b: xx.pointer + group * g, ldb: columns,
                                    c: gg.pointer + group * g * g, ldc: g)
                }
            }
        }
        return gram
    }

    /// AWQ's clip search: per (row, group) the clamp bound whose fake-quantized group best preserves the
    /// group's partial outputs on `sample` (`[tokens, columns]`, the Linear's inputs as scaled), `[rows, groups]`.
    public static func clipBounds(_ w: [Float], rows: Int, columns: Int, groupSize g: Int, sample: Matrix, steps: Int, grid: Int) -> [Float] {
        clipBounds(w, rows: rows, columns: columns, groupSize: g, grams: groupGrams(sample: sample, groupSize: g), steps: steps, grid: grid)
    }

    /// ``clipBounds(_:rows:columns:groupSize:sample:steps:grid:)`` from the sample's ``groupGrams(sample:groupSize:)``.
    public static func clipBounds(_ w: [Float], rows: Int, columns: Int, groupSize g: Int, grams gram: [Float], steps: Int, grid: Int) -> [Float] {
        let groups = columns / g
        var best = [Float](repeating: 0, count: rows * groups)
        w.withUnsafeBufferPointer { source in
            gram.withUnsafeBufferPointer { grams in
                best.withUnsafeMutableBufferPointer { b in
                    let (src, gg, bb) = (UnsafeSendable(source.baseAddress!), UnsafeSendable(grams.baseAddress!), UnsafeSendable(b.baseAddress!))
                    eachChunk(rows: rows) { first, count in
                        qg_awq_clip_search(src.pointer + first * columns, Int64(count), Int64(columns), Int64(g), gg.pointer,
                                           Int32(steps), Int32(grid), bb.pointer + first * groups)
                    }
                }
            }
        }
        return best
    }

    /// Clamps every (row, group) of `w` to `[-bound, bound]` (AutoAWQ's `apply_clip`).
    public static func clip(_ w: inout [Float], columns: Int, groupSize: Int, bounds: [Float]) {
        let groups = columns / groupSize
        for i in w.indices {
            let bound = bounds[(i / columns) * groups + (i % columns) / groupSize]
            w[i] = min(max(w[i], -bound), bound)
        }
    }
}

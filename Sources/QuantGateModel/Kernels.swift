import Foundation
import QuantGateTensors

/// The dense building blocks of the forward pass: BLAS calls and row-parallel element-wise loops.
/// The only file of this module that touches raw pointers.
enum Kernels {
    /// `x · Wᵀ (+ bias)`: x is `[T, in]`, W is `[out, in]` row-major (the checkpoint layout); result `[T, out]`.
    /// With `rounding`, x is first rounded as the weights' runtime rounds it (``InputQuantization``).
    static func linear(_ x: Matrix, weight: [Float], outputs: Int, bias: [Float]? = nil, rounding: InputQuantization? = nil) -> Matrix {
        let x = rounding?.apply(x) ?? x
        // The product overwrites every element (beta 0): the output is not zero-filled first.
        var y = Matrix(rows: x.rows, columns: outputs, values: [Float](unsafeUninitializedCapacity: x.rows * outputs) { buffer, count in
            if let bias {
                for r in 0..<x.rows { _ = UnsafeMutableBufferPointer(rebasing: buffer[(r * outputs)..<((r + 1) * outputs)]).initialize(from: bias) }
            }
            count = x.rows * outputs
        })
        x.values.withUnsafeBufferPointer { a in
            weight.withUnsafeBufferPointer { w in
                y.values.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transposeB: true, m: x.rows, n: outputs, k: x.columns, a: a.baseAddress!, lda: x.columns,
                              b: w.baseAddress!, ldb: x.columns, beta: bias == nil ? 0 : 1, c: c.baseAddress!, ldc: outputs)
                }
            }
        }
        return y
    }

    /// RMSNorm of every row: `x / sqrt(mean(x²) + eps) · weight`, in f32 as transformers computes it.
    static func rmsNorm(_ x: Matrix, weight: [Float], eps: Float) -> Matrix {
        var y = Matrix(rows: x.rows, columns: x.columns)
        let n = x.columns
        x.values.withUnsafeBufferPointer { src in
            y.values.withUnsafeMutableBufferPointer { dst in
                let (source, destination) = (UnsafeSendable(src.baseAddress!), UnsafeSendable(dst.baseAddress!))
                parallelRows(x.rows) { r in
                    let row = source.pointer + r * n
                    var sum: Float = 0
                    for i in 0..<n { sum += row[i] * row[i] }
                    let scale = 1 / (sum / Float(n) + eps).squareRoot()
                    let out = destination.pointer + r * n
                    for i in 0..<n { out[i] = weight[i] * (row[i] * scale) }
                }
            }
        }
        return y
    }

    /// `x += y`, element-wise, rows in parallel.
    static func add(_ y: Matrix, into x: inout Matrix) {
        precondition(x.rows == y.rows && x.columns == y.columns, "add: shapes differ")
        let n = x.columns
        x.values.withUnsafeMutableBufferPointer { xs in
            y.values.withUnsafeBufferPointer { ys in
                let (target, source) = (UnsafeSendable(xs.baseAddress!), UnsafeSendable(ys.baseAddress!))
                parallelRows(x.rows) { r in
                    for i in (r * n)..<((r + 1) * n) { target.pointer[i] += source.pointer[i] }
                }
            }
        }
    }

    /// `silu(gate) · up`, element-wise, into `gate`.
    static func swiglu(_ gate: inout Matrix, _ up: Matrix) {
        let n = gate.columns
        gate.values.withUnsafeMutableBufferPointer { g in
            up.values.withUnsafeBufferPointer { u in
                let (gates, ups) = (UnsafeSendable(g.baseAddress!), UnsafeSendable(u.baseAddress!))
                parallelRows(gate.rows) { r in
                    for i in (r * n)..<((r + 1) * n) {
                        let x = gates.pointer[i]
                        gates.pointer[i] = x / (1 + exp(-x)) * ups.pointer[i]
                    }
                }
            }
        }
    }

    /// Runs `body(row)` for every row, split across cores in fixed chunks (the result never
    /// depends on the thread count: each row is computed by exactly one call).
    static func parallelRows(_ rows: Int, _ body: @Sendable (Int) -> Void) {
        let chunk = 16
        let chunks = (rows + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for r in (c * chunk)..<min(rows, (c + 1) * chunk) { body(r) }
        }
    }
}

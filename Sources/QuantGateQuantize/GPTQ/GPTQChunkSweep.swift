import CKernels
import Foundation
import QuantGateTensors

/// The column sweep of one fixed chunk of rows (``GPTQSolver``): fits its group parameters, sweeps each
/// lazy block with the C kernel and applies the block's trailing update as one single-threaded GEMM.
/// Chunks touch disjoint rows of the shared buffers.
struct ChunkSweep: Sendable {
    let rows: Int, columns: Int, groups: Int, group: Int
    let settings: GPTQSolverSettings
    let fitDuringSweep: Bool, staticGroups: Bool
    /// The group of each swept position.
    let positionGroup: [Int32]
    /// `U`, `[columns, columns]` upper, in sweep order; nil for round-to-nearest.
    let factor: [Float]?
    let module: String

    /// The row-major buffers all chunks share; each chunk reads and writes its own rows only.
    final class Buffers: @unchecked Sendable {
        /// The dead-masked weights in original column order (static groups are fitted on them).
        let original: UnsafeMutableBufferPointer<Float>
        /// The weights in sweep order, updated in place by the error feedback.
        let weights: UnsafeMutableBufferPointer<Float>
        /// Codes in sweep order.
        let codes: UnsafeMutableBufferPointer<UInt8>
        /// `[groups, rows]`.
        let scales: UnsafeMutableBufferPointer<Float>, zeros: UnsafeMutableBufferPointer<Float>
        /// `[rows]`.
        let loss: UnsafeMutableBufferPointer<Double>
        /// `[chunks, 2]`: seconds in the C sweep and in the BLAS trailing updates, per chunk.
        let timing: UnsafeMutableBufferPointer<Double>

        init(original: [Float], permuted: [Float], groups: Int, rows: Int, chunks: Int) {
            func copy<T>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
                let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: values.count)
                _ = buffer.initialize(from: values)
                return buffer
            }
            self.original = copy(original)
            weights = copy(permuted)
            codes = copy([UInt8](repeating: 0, count: permuted.count))
            scales = copy([Float](repeating: 0, count: groups * rows))
            zeros = copy([Float](repeating: 0, count: groups * rows))
            loss = copy([Double](repeating: 0, count: rows))
            timing = copy([Double](repeating: 0, count: 2 * chunks))
        }

        deinit {
            original.deallocate(); weights.deallocate(); codes.deallocate(); scales.deallocate(); zeros.deallocate()
            loss.deallocate(); timing.deallocate()
        }
    }

    func run(chunk index: Int, rows chunk: Range<Int>, _ buffers: Buffers) throws {
        var (sweepNanoseconds, gemmNanoseconds) = (UInt64(0), UInt64(0))
        defer {
            buffers.timing[2 * index] = Double(sweepNanoseconds) / 1e9
            buffers.timing[2 * index + 1] = Double(gemmNanoseconds) / 1e9
        }
        let n = chunk.count, r0 = chunk.lowerBound, cols = columns
        let w = buffers.weights.baseAddress! + r0 * cols
        var scale = [Float](repeating: 0, count: groups * n), zero = [Float](repeating: 0, count: groups * n)
        func fit(_ k: Int, from source: UnsafePointer<Float>, first column: Int) throws {
            let count = min(group, cols - column)
            try scale.withUnsafeMutableBufferPointer { s in
                try zero.withUnsafeMutableBufferPointer { z in
                    qg_gptq_fit_rows(source + column, Int64(cols), Int64(n), Int64(count), Int32(settings.maxq),
                                     settings.symmetric ? 1 : 0, Int32(settings.zeroFloor), s.baseAddress! + k * n, z.baseAddress! + k * n)
                    try roundToHalf(s.baseAddress! + k * n, count: n)
                }
            }
        }
        if !fitDuringSweep {
            for k in 0..<groups {
                if staticGroups {
                    try fit(k, from: buffers.original.baseAddress! + r0 * cols, first: k * group)
                } else {
                    try fit(k, from: w, first: k * group)
                }
            }
        }
        let block = settings.blockSize
        var w1 = [Float](repeating: 0, count: n * block), err = [Float](repeating: 0, count: n * block)
        var loss = [Double](repeating: 0, count: n)
        for i1 in stride(from: 0, to: cols, by: block) {
            let i2 = min(cols, i1 + block), count = i2 - i1
            for r in 0..<n { for j in 0..<count { w1[r * count + j] = w[r * cols + i1 + j] } }
            var c = i1
            while c < i2 {
                var end = i2
                if fitDuringSweep {
                    // The reference fits from W, which holds this block's columns as they stood at its start.
                    if c % group == 0 { try fit(c / group, from: w, first: c) }
                    end = min(i2, (c / group + 1) * group)
                }
                let sweepStarted = DispatchTime.now().uptimeNanoseconds
                defer { sweepNanoseconds += DispatchTime.now().uptimeNanoseconds - sweepStarted }
                w1.withUnsafeMutableBufferPointer { w1p in
                    err.withUnsafeMutableBufferPointer { ep in
                        scale.withUnsafeBufferPointer { s in
                            zero.withUnsafeBufferPointer { z in
                                positionGroup.withUnsafeBufferPointer { pg in
                                    loss.withUnsafeMutableBufferPointer { lp in
                                        sweepKernel(w1: w1p.baseAddress!, err: ep.baseAddress!, c0: c - i1, c1: end - i1, count: count,
                                                    i1: i1, scale: s.baseAddress!, zero: z.baseAddress!, param: pg.baseAddress! + i1,
                                                    codes: buffers.codes.baseAddress! + r0 * cols + i1, rows: n, loss: lp.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
                c = end
            }
            if let factor, i2 < cols {
                let gemmStarted = DispatchTime.now().uptimeNanoseconds
                defer { gemmNanoseconds += DispatchTime.now().uptimeNanoseconds - gemmStarted }
                err.withUnsafeBufferPointer { e in
                    factor.withUnsafeBufferPointer { u in
                        BLAS.serialGEMM(m: n, n: cols - i2, k: count, alpha: -1, a: e.baseAddress!, lda: count,
                                        b: u.baseAddress! + i1 * cols + i2, ldb: cols, beta: 1, c: w + i2, ldc: cols)
                    }
                }
            }
        }
        for r in 0..<n { buffers.loss[r0 + r] = loss[r] }
        for k in 0..<groups {
            for r in 0..<n {
                buffers.scales[k * rows + r0 + r] = scale[k * n + r]
                buffers.zeros[k * rows + r0 + r] = zero[k * n + r]
            }
        }
    }

    /// The C sweep over block columns `[c0, c1)`, with the block's diagonal block of `U` (or none).
    private func sweepKernel(w1: UnsafeMutablePointer<Float>, err: UnsafeMutablePointer<Float>, c0: Int, c1: Int, count: Int, i1: Int,
                             scale: UnsafePointer<Float>, zero: UnsafePointer<Float>, param: UnsafePointer<Int32>,
                             codes: UnsafeMutablePointer<UInt8>, rows n: Int, loss: UnsafeMutablePointer<Double>) {
        func call(_ u: UnsafePointer<Float>?) {
            qg_gptq_sweep(w1, Int64(count), Int64(n), Int64(c0), Int64(c1), Int64(count), u, Int64(columns), scale, zero, param,
                          Int64(n), Int32(settings.maxq), codes, Int64(columns), err, Int64(count), loss)
        }
        if let factor {
            factor.withUnsafeBufferPointer { call($0.baseAddress! + i1 * columns + i1) }
        } else {
            call(nil)
        }
    }

    /// Rounds fitted scales to float16, the checkpoint's dtype (a scale that underflows to 0 becomes the
    /// smallest positive float16, so no weight divides by zero).
    private func roundToHalf(_ scales: UnsafeMutablePointer<Float>, count: Int) throws {
        for i in 0..<count {
            let half = Float(Float16(scales[i]))
            guard half.isFinite else { throw GPTQError.scaleOverflow(module: module, scale: scales[i]) }
            scales[i] = half > 0 ? half : Float(Float16.leastNonzeroMagnitude)
        }
    }
}

/// The error of the lowest-numbered failing chunk (so a failure reads the same on every run).
final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var chunk = Int.max
    private var error: (any Error)?

    func record(chunk: Int, _ error: any Error) {
        lock.lock()
        defer { lock.unlock() }
        if chunk < self.chunk { (self.chunk, self.error) = (chunk, error) }
    }

    var first: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}

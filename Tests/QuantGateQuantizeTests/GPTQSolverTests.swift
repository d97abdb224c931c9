import Foundation
import QuantGateFormats
import QuantGateQuantize
import QuantGateTensors
import Testing

/// GPTQ against an independent f64 implementation of the paper's algorithm, and its defining property:
/// a smaller layer-output error than round-to-nearest on the same grid.
@Suite("GPTQ solver")
struct GPTQSolverTests {
    /// Activations with correlated channels of very different sizes (as real Linear inputs have).
    static func activations(tokens: Int, width: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let base = (0..<(tokens * 4)).map { _ in Float.random(in: -1...1, using: &rng) }
        let mixing = (0..<(4 * width)).map { _ in Float.random(in: -1...1, using: &rng) }
        let size: [Float] = (0..<width).map { c in
            let spike: Float = c % 11 == 3 ? 6 : 1
            return Float(1 + c % 7) * spike
        }
        return (0..<(tokens * width)).map { i in
            let (t, c) = (i / width, i % width)
            var mixed: Float = 0
            for j in 0..<4 { mixed += base[t * 4 + j] * mixing[j * width + c] }
            let noise: Float = 0.3 * Float.random(in: -1...1, using: &rng)
            return size[c] * (mixed + noise)
        }
    }

    static func weights(rows: Int, columns: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(rows * columns)).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
    }

    /// `XᵀX / tokens`.
    static func hessian(_ x: [Float], tokens: Int, width: Int) -> [Float] {
        var h = [Float](repeating: 0, count: width * width)
        for i in 0..<width {
            for j in 0..<width {
                var sum = 0.0
                for t in 0..<tokens { sum += Double(x[t * width + i]) * Double(x[t * width + j]) }
                h[i * width + j] = Float(sum / Double(tokens))
            }
        }
        return h
    }

    /// `‖(W − Ŵ) Xᵀ‖²`: the layer-output error GPTQ minimizes.
    static func outputError(_ w: [Float], _ q: [Float], x: [Float], rows: Int, tokens: Int, width: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            for t in 0..<tokens {
                var dot = 0.0
                for c in 0..<width { dot += Double(w[r * width + c] - q[r * width + c]) * Double(x[t * width + c]) }
                total += dot * dot
            }
        }
        return total
    }

    /// The paper's algorithm without lazy batches or Cholesky, in f64 (arXiv:2210.17323 §3, OBQ form):
    /// quantize column q, spread its error with row q of the running inverse Hessian, then remove q from
    /// that inverse by Gaussian elimination. Columns in decreasing diag(H) order. Group parameters are fitted
    /// when a group's first column comes up, on the updated weights (group act-order), or with `staticGroups`
    /// once, on the original weights, per run of `group` original columns (static act-order).
    static func referenceCodes(_ weight: [Float], rows: Int, columns: Int, hessian: [Float], group: Int, damp: Double,
                               staticGroups: Bool = false) -> [UInt8] {
        let n = columns
        var h = hessian.map { 2 * Double($0) }
        let perm = (0..<n).sorted { (h[$0 * n + $0], $1) > (h[$1 * n + $1], $0) }
        let mean = (0..<n).reduce(0.0) { $0 + h[$1 * n + $1] } / Double(n)
        for i in 0..<n { h[i * n + i] += damp * mean }
        // Inverse of the permuted H by Gauss–Jordan.
        var a = (0..<(n * n)).map { h[perm[$0 / n] * n + perm[$0 % n]] }
        var inv = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
        for p in 0..<n {
            let pivot = a[p * n + p]
            for j in 0..<n { a[p * n + j] /= pivot; inv[p * n + j] /= pivot }
            for i in 0..<n where i != p {
                let f = a[i * n + p]
                if f != 0 { for j in 0..<n { a[i * n + j] -= f * a[p * n + j]; inv[i * n + j] -= f * inv[p * n + j] } }
            }
        }
        var w = (0..<(rows * n)).map { Double(weight[($0 / n) * n + perm[$0 % n]]) }
        var codes = [UInt8](repeating: 0, count: rows * n)
        /// The symmetric 4-bit scale of a slice (zero 8).
        func scaleOf(_ slice: ArraySlice<Double>) -> Double {
            let amax = max(abs(min(slice.min()!, 0)), max(slice.max()!, 0))
            return Double(Float16(Float(2 * (amax == 0 ? 1 : amax) / 15)))
        }
        // Static: [row][original group], from the original weights.
        let original = weight.map(Double.init)
        let fixed = (0..<rows).map { r in
            stride(from: 0, to: n, by: group).map { c in scaleOf(original[(r * n + c)..<(r * n + min(n, c + group))]) }
        }
        var scale = [Double](repeating: 0, count: rows)
        for q in 0..<n {
            if staticGroups {
                for r in 0..<rows { scale[r] = fixed[r][perm[q] / group] }
            } else if q % group == 0 {
                for r in 0..<rows { scale[r] = scaleOf(w[(r * n + q)..<(r * n + min(n, q + group))]) }
            }
            let d = inv[q * n + q]
            for r in 0..<rows {
                let value = w[r * n + q]
                let code = min(15, max(0, (value / scale[r]).rounded(.toNearestOrEven) + 8))
                codes[r * n + perm[q]] = UInt8(code)
                let e = (value - scale[r] * (code - 8)) / d
                for j in (q + 1)..<n { w[r * n + j] -= e * inv[q * n + j] }
            }
            let row = Array(inv[(q * n)..<(q * n + n)])
            for i in 0..<n { let f = inv[i * n + q] / d; for j in 0..<n { inv[i * n + j] -= f * row[j] } }
        }
        return codes
    }

    /// A 40 × 64 Linear quantized with `settings` and by ``referenceCodes(_:rows:columns:hessian:group:damp:staticGroups:)``
    /// (group 16); expects the codes equal but at rounding ties (f32 against f64 and another elimination order).
    static func compareWithReference(settings: GPTQSolverSettings, staticGroups: Bool, seed: UInt64) throws -> (GPTQLayerResult, w: [Float], h: [Float]) {
        let (rows, columns, tokens) = (40, 64, 256)
        let h = hessian(activations(tokens: tokens, width: columns, seed: seed), tokens: tokens, width: columns)
        let w = weights(rows: rows, columns: columns, seed: seed + 1)
        let ours = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h, settings: settings, module: "test")
        let reference = referenceCodes(w, rows: rows, columns: columns, hessian: h, group: 16, damp: 0.01, staticGroups: staticGroups)
        let equal = zip(ours.linear.codes, reference).filter { $0 == $1 }.count
        #expect(Double(equal) / Double(ours.linear.codes.count) > 0.98, "codes equal: \(equal)/\(ours.linear.codes.count)")
        return (ours, w, h)
    }

    @Test("lazy blocks with the Cholesky factor agree with the f64 Gaussian-elimination form, group act-order, groups fitted during the sweep")
    func agreesWithIndependentImplementation() throws {
        let settings = GPTQSolverSettings(bits: 4, groupSize: 16, activationOrder: .group, blockSize: 16)
        let (ours, _, _) = try Self.compareWithReference(settings: settings, staticGroups: false, seed: 1)
        #expect(ours.damp == 0.01 && ours.deadColumns == 0)
    }

    @Test("static act-order (the default) agrees with the f64 form: act-order sweep, groups of original columns fitted first, g_idx = i / group")
    func staticActOrderAgreesWithIndependentImplementation() throws {
        let settings = GPTQSolverSettings(bits: 4, groupSize: 16, blockSize: 16)
        #expect(settings.activationOrder == .static && settings.effectiveScaleFitting == .preSweep)
        let (ours, w, h) = try Self.compareWithReference(settings: settings, staticGroups: true, seed: 11)
        let (rows, columns) = (40, 64)
        #expect(ours.linear.groupIndex == (0..<columns).map { Int32($0 / 16) })
        // The sweep order matters: the same groups without act-order give other codes.
        let plain = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h,
                                            settings: GPTQSolverSettings(bits: 4, groupSize: 16, activationOrder: .off, scaleFitting: .preSweep,
                                                                         blockSize: 16), module: "test")
        #expect(plain.linear.scales == ours.linear.scales && plain.linear.codes != ours.linear.codes)
    }

    @Test("GPTQ's layer-output error is below round-to-nearest's on the same grid, for 4 and 8 bits, sym and asym")
    func beatsRoundToNearest() throws {
        let (rows, columns, tokens) = (64, 96, 384)
        let x = Self.activations(tokens: tokens, width: columns, seed: 3)
        let h = Self.hessian(x, tokens: tokens, width: columns)
        let w = Self.weights(rows: rows, columns: columns, seed: 4)
        for (bits, symmetric) in [(4, true), (4, false), (8, true), (2, false)] {
            let settings = GPTQSolverSettings(bits: bits, groupSize: 32, symmetric: symmetric)
            let gptq = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h, settings: settings, module: "m")
            let rtn = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: nil, settings: settings, module: "m")
            let e1 = Self.outputError(w, gptq.linear.dequantized(), x: x, rows: rows, tokens: tokens, width: columns)
            let e0 = Self.outputError(w, rtn.linear.dequantized(), x: x, rows: rows, tokens: tokens, width: columns)
            #expect(e1 < 0.8 * e0, "\(bits)-bit sym=\(symmetric): GPTQ \(e1), RTN \(e0)")
            #expect(gptq.linear.codes.allSatisfy { Int($0) <= settings.maxq })
        }
    }

    @Test("round-to-nearest: codes are the grid's rounding of each weight, scales f16, sym zero 2^(bits-1)")
    func roundToNearestGrid() throws {
        let w: [Float] = [0.5, -1, 0.25, 0.75, 0, 0, 0, 0, 2, 1, 0.1, 0.3, -0.2, 0.2, -0.4, 0.0001]
        let settings = GPTQSolverSettings(bits: 4, groupSize: 4, activationOrder: .off)
        let r = try GPTQSolver.quantize(weight: w, rows: 4, columns: 4, hessian: nil, settings: settings, module: "m")
        // Row 0: amax 1, scale 2/15 (f16), zero 8. Row 1 all zero: scale 2/15. Row 2 all ≥ 0: the reference
        // keeps xmin = 0, so scale = 2/15 with zero 8 and values above 7/15 · 2 clip to 15.
        #expect(r.linear.scales[0] == Float(Float16(Float(2) / 15)) && r.linear.zeros.allSatisfy { $0 == 8 })
        #expect(Array(r.linear.codes[0..<4]) == [12, 0, 10, 14])
        #expect(Array(r.linear.codes[4..<8]) == [8, 8, 8, 8])
        #expect(r.linear.scales[2] == Float(Float16(Float(2) / 15)) && Array(r.linear.codes[8..<12]) == [15, 15, 9, 10])
        let asym = try GPTQSolver.quantize(weight: w, rows: 4, columns: 4, hessian: nil,
                                           settings: GPTQSolverSettings(bits: 4, groupSize: 4, activationOrder: .off, symmetric: false, zeroFloor: 1),
                                           module: "m")
        // Row 3 of the asymmetric grid: xmin −0.4, xmax 0.2 → scale 0.04, zero round(10) = 10.
        #expect(asym.linear.zeros[3] == 10 && asym.linear.scales[3] == Float(Float16(Float(0.6) / 15)))
        // Row 2 (all ≥ 0) would get zero 0; the v1 floor keeps it at 1.
        #expect(asym.linear.zeros[2] == 1)
    }

    @Test("dead columns quantize to zero; static groups give g_idx = i / group; act-order groups follow the sweep order")
    func deadColumnsAndGroupIndex() throws {
        let (rows, columns, tokens) = (16, 32, 128)
        var x = Self.activations(tokens: tokens, width: columns, seed: 5)
        for t in 0..<tokens { x[t * columns + 3] = 0 }
        let h = Self.hessian(x, tokens: tokens, width: columns)
        let w = Self.weights(rows: rows, columns: columns, seed: 6)
        let dynamic = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h,
                                              settings: GPTQSolverSettings(groupSize: 8, activationOrder: .group), module: "m")
        #expect(dynamic.deadColumns == 1)
        let dq = dynamic.linear.dequantized()
        #expect((0..<rows).allSatisfy { dq[$0 * columns + 3] == 0 })
        // Act-order: the group of column i is its position in decreasing diag(H) order / 8.
        let order = (0..<columns).sorted { (h[$0 * columns + $0], $1) > (h[$1 * columns + $1], $0) }
        #expect((0..<columns).allSatisfy { Int(dynamic.linear.groupIndex[order[$0]]) == $0 / 8 })
        #expect(dynamic.linear.groupIndex != (0..<columns).map { Int32($0 / 8) })
        let fixed = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h,
                                            settings: GPTQSolverSettings(groupSize: 8, activationOrder: .static), module: "m")
        #expect(fixed.linear.groupIndex == (0..<columns).map { Int32($0 / 8) })
        let perChannel = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h,
                                                 settings: GPTQSolverSettings(groupSize: nil), module: "m")
        #expect(perChannel.linear.groups == 1 && perChannel.linear.groupIndex.allSatisfy { $0 == 0 })
    }

    @Test("rows are independent: a row's codes do not depend on the other rows (so not on how cores split them)")
    func rowChunksIndependent() throws {
        let (rows, columns, tokens) = (160, 48, 200)
        let x = Self.activations(tokens: tokens, width: columns, seed: 7)
        let h = Self.hessian(x, tokens: tokens, width: columns)
        let w = Self.weights(rows: rows, columns: columns, seed: 8)
        let settings = GPTQSolverSettings(groupSize: 16, activationOrder: .group, blockSize: 16)
        let all = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h, settings: settings, module: "m")
        let again = try GPTQSolver.quantize(weight: w, rows: rows, columns: columns, hessian: h, settings: settings, module: "m")
        #expect(all.linear.codes == again.linear.codes && all.linear.scales == again.linear.scales && all.loss == again.loss)
        let tail = try GPTQSolver.quantize(weight: Array(w[(64 * columns)...]), rows: rows - 64, columns: columns, hessian: h,
                                           settings: settings, module: "m")
        #expect(Array(all.linear.codes[(64 * columns)...]) == tail.linear.codes)
    }

    @Test("a singular Hessian is dampened; the dampening that worked is reported; bad inputs are named")
    func dampeningAndErrors() throws {
        let columns = 8
        // Rank one: x = (1, 2, …, 8) on every token.
        let x = (0..<(4 * columns)).map { Float($0 % columns + 1) }
        let h = Self.hessian(x, tokens: 4, width: columns)
        let w = Self.weights(rows: 8, columns: columns, seed: 9)
        let undamped = try GPTQSolver.quantize(weight: w, rows: 8, columns: columns, hessian: h,
                                               settings: GPTQSolverSettings(groupSize: nil, damp: 0), module: "m")
        #expect(undamped.damp == 0.01)
        #expect(throws: GPTQError.badGroupSize(module: "layer.q", groupSize: 16, columns: 8)) {
            try GPTQSolver.quantize(weight: w, rows: 8, columns: 8, hessian: h, settings: GPTQSolverSettings(groupSize: 16), module: "layer.q")
        }
        var bad = w
        bad[5] = .nan
        #expect(throws: GPTQError.nonFinite(module: "layer.q", what: "the weight")) {
            try GPTQSolver.quantize(weight: bad, rows: 8, columns: 8, hessian: h, settings: GPTQSolverSettings(groupSize: nil), module: "layer.q")
        }
    }
}

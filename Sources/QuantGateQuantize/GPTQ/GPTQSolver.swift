import CKernels
import Dispatch
import QuantGateFormats
import QuantGateTensors

/// How GPTQ quantizes one Linear: the grid, the column order and when group parameters are fitted.
public struct GPTQSolverSettings: Sendable, Equatable {
    /// When each group's scale and zero are fitted.
    public enum ScaleFitting: String, Sendable, CaseIterable {
        /// The reference's (IST-DASLab/gptq, AutoGPTQ, GPTQModel): when the sweep reaches the group's first
        /// column, on the weights as the error feedback of the previous blocks left them.
        case sweep
        /// llm-compressor's: every group from the original weights before the sweep (its weight observer).
        case preSweep = "pre-sweep"
    }

    /// Whether and how columns are swept in decreasing order of `diag(H)` (act-order).
    public enum ActivationOrder: String, Sendable, CaseIterable {
        /// Columns in their original order.
        case off
        /// Act-order sweep, groups of consecutive *original* columns fitted on the original weights before the
        /// sweep (the reference's `static_groups`, llm-compressor's `actorder="static"`): `g_idx[i] = i / group`,
        /// so the checkpoint says `desc_act: false` and every loader runs it.
        case `static`
        /// Act-order sweep, groups of consecutive *swept* columns (the reference's `desc_act`, llm-compressor's
        /// removed `actorder="group"`): a permuted `g_idx` and `desc_act: true`, which vLLM 0.32 refuses with groups.
        case group

        /// Whether the sweep permutes the columns.
        public var permutes: Bool { self != .off }
    }

    /// 2, 4 or 8.
    public var bits: Int
    /// Input columns per group; nil for one group per row (`group_size: -1`).
    public var groupSize: Int?
    /// The sweep's column order and how groups follow it.
    public var activationOrder: ActivationOrder
    /// Symmetric grid (zero at `2^(bits-1)`) or asymmetric (zero fitted).
    public var symmetric: Bool
    /// Dampening as a fraction of `mean(diag H)`; raised by 0.01 until the Cholesky factorization succeeds.
    public var damp: Double
    public var scaleFitting: ScaleFitting
    /// The smallest zero point the checkpoint format can store (1 for asymmetric `gptq` v1 checkpoints,
    /// whose stored `zero - 1` cannot be negative; else 0).
    public var zeroFloor: Int
    /// Columns per lazy batch update (the reference's 128).
    public var blockSize: Int

    public init(bits: Int = 4, groupSize: Int? = 128, activationOrder: ActivationOrder = .static, symmetric: Bool = true,
                damp: Double = 0.01, scaleFitting: ScaleFitting = .sweep, zeroFloor: Int = 0, blockSize: Int = 128) {
        (self.bits, self.groupSize, self.activationOrder, self.symmetric) = (bits, groupSize, activationOrder, symmetric)
        (self.damp, self.scaleFitting, self.zeroFloor, self.blockSize) = (damp, scaleFitting, zeroFloor, blockSize)
    }

    /// `2^bits - 1`.
    public var maxq: Int { (1 << bits) - 1 }

    /// When group parameters are fitted in fact: static act-order and one group per row fit every group
    /// before the sweep, from the original weights, whatever ``scaleFitting`` says.
    public var effectiveScaleFitting: ScaleFitting {
        activationOrder == .static || groupSize == nil ? .preSweep : scaleFitting
    }
}

/// A Hessian prepared for GPTQ's sweep (``GPTQSolver/factor(hessian:columns:settings:module:)``).
public struct GPTQHessianFactor: Sendable {
    public let columns: Int
    /// Inputs whose diagonal was 0 (never fired in calibration).
    public let deadColumns: [Int]
    /// The sweep order (act-order: decreasing `diag(H)`; else the identity).
    public let permutation: [Int]
    /// `U`, `[columns, columns]` upper, in sweep order.
    public let upper: [Float]
    /// The dampening fraction that made the factorization succeed.
    public let damp: Double
    /// Wall seconds of the factorization (LAPACK).
    public let seconds: Double
}

/// One Linear quantized by GPTQ (or round-to-nearest), with what the sweep measured.
public struct GPTQLayerResult: Sendable {
    public let linear: GroupQuantizedLinear
    /// The reference's loss, `Σ (w − ŵ)² / d² / 2` with `H = 2XᵀX / tokens` (round-to-nearest: `Σ (w − ŵ)² / 2`).
    public let loss: Double
    /// The dampening fraction that made the Cholesky factorization succeed (nil without a Hessian).
    public let damp: Double?
    /// Input columns that never fired in calibration (their weights are quantized as zeros).
    public let deadColumns: Int
    /// Wall seconds of this Linear's sweep, and of its Hessian's factorization (LAPACK; shared by the Linears
    /// reading the same input, so not part of `seconds`).
    public let seconds: Double, factorSeconds: Double
    /// Core-seconds in the C column sweeps and in the BLAS trailing updates (summed over row chunks).
    public let sweepSeconds: Double, trailingSeconds: Double
}

/// Why GPTQ could not quantize a Linear.
public enum GPTQError: Error, CustomStringConvertible, Equatable, Sendable {
    case unsupportedBits(Int)
    case badGroupSize(module: String, groupSize: Int, columns: Int)
    case shapeNotPackable(module: String, shape: [Int], bits: Int)
    case hessianShape(module: String, width: Int, expected: Int)
    case notPositiveDefinite(module: String, damp: Double)
    case nonFinite(module: String, what: String)
    case scaleOverflow(module: String, scale: Float)
    case missingResult(module: String)
    case missingHessian(module: String)

    public var description: String {
        switch self {
        case .unsupportedBits(let bits): "GPTQ with \(bits) bits: supported are 2, 4 and 8"
        case .badGroupSize(let module, let g, let columns):
            "\(module): group size \(g) does not fit \(columns) input columns (use a positive size of at most \(columns), or -1 for one group per row)"
        case .shapeNotPackable(let module, let shape, let bits):
            "\(module): shape \(shape) cannot be packed in \(bits)-bit GPTQ words (inputs and outputs must be multiples of \(32 / bits))"
        case .hessianShape(let module, let width, let expected): "\(module): Hessian of width \(width), the weight has \(expected) inputs"
        case .notPositiveDefinite(let module, let damp):
            "\(module): the Hessian is not positive definite even with dampening \(damp) of its mean diagonal (calibration data degenerate?)"
        case .nonFinite(let module, let what): "\(module): \(what) is not finite"
        case .scaleOverflow(let module, let scale): "\(module): a group scale \(scale) overflows float16"
        case .missingResult(let module): "\(module): was planned but not quantized (calibration did not reach its block)"
        case .missingHessian(let module): "\(module): no Hessian was measured for its input (calibration ran without Hessians)"
        }
    }
}

/// GPTQ as its paper and reference implementation define it (arXiv:2210.17323 Algorithm 1;
/// IST-DASLab/gptq `fasterquant`; ../shared/design/ALGORITHMS.md §1):
/// dead columns zeroed, optional act-order permutation, dampening `λ = damp · mean(diag H)`, the upper
/// Cholesky factor `U` of `H⁻¹` (LAPACK, f64), then a column sweep in lazy blocks whose trailing update
/// is one GEMM per block. Rows are independent given `U`: fixed chunks of rows sweep in parallel, so
/// the result never depends on the core count.
///
/// Scales are rounded to float16 when fitted (what the checkpoint stores), so the error feedback
/// sees the weights a loader will compute.
public enum GPTQSolver {
    /// Rows per parallel chunk (a multiple of every packing width; fixed, so results are core-count independent).
    static let rowChunk = 64

    /// Quantizes `weight` (`[rows, columns]` row-major) with `hessian` (`[columns, columns]`, any positive
    /// multiple of `XᵀX`; nil: round-to-nearest on the same grid, no reordering).
    public static func quantize(weight: [Float], rows: Int, columns: Int, hessian: [Float]?, settings: GPTQSolverSettings,
                                module: String) throws -> GPTQLayerResult {
        let prepared = try hessian.map { try factor(hessian: $0, columns: columns, settings: settings, module: module) }
        return try quantize(weight: weight, rows: rows, columns: columns, factor: prepared, settings: settings, module: module)
    }

    /// The Hessian's share of GPTQ, which every Linear reading the same input shares (q/k/v, gate/up): dead
    /// columns, the act-order permutation and `U` (``inverseHessianFactor(_:perm:damp:module:)``).
    /// - Throws: ``GPTQError`` for a wrong size, a non-finite entry, or a matrix no dampening up to 1 makes positive definite.
    public static func factor(hessian: [Float], columns: Int, settings: GPTQSolverSettings, module: String) throws -> GPTQHessianFactor {
        let started = DispatchTime.now().uptimeNanoseconds
        guard hessian.count == columns * columns else {
            throw GPTQError.hessianShape(module: module, width: Int(Double(hessian.count).squareRoot()), expected: columns)
        }
        guard hessian.allSatisfy(\.isFinite) else { throw GPTQError.nonFinite(module: module, what: "the Hessian") }
        // H = 2·hessian, with a dead column's diagonal set to 1 (its row and column are zero).
        var diagonal = (0..<columns).map { 2 * Double(hessian[$0 * columns + $0]) }
        let dead = diagonal.indices.filter { diagonal[$0] == 0 }
        for i in dead { diagonal[i] = 1 }
        var perm = Array(0..<columns)
        if settings.activationOrder.permutes {
            perm.sort { (diagonal[$0], $1) > (diagonal[$1], $0) }
        }
        let (factor, damp) = try inverseHessianFactor(hessian, diagonal: diagonal, perm: perm, damp: settings.damp, module: module)
        return GPTQHessianFactor(columns: columns, deadColumns: dead, permutation: perm, upper: factor, damp: damp,
                                 seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// Quantizes `weight` with a factored Hessian (nil: round-to-nearest on the same grid, no reordering).
    public static func quantize(weight: [Float], rows: Int, columns: Int, factor prepared: GPTQHessianFactor?,
                                settings: GPTQSolverSettings, module: String) throws -> GPTQLayerResult {
        let started = DispatchTime.now().uptimeNanoseconds
        guard [2, 4, 8].contains(settings.bits) else { throw GPTQError.unsupportedBits(settings.bits) }
        let group = settings.groupSize ?? columns
        guard group > 0, group <= columns else { throw GPTQError.badGroupSize(module: module, groupSize: group, columns: columns) }
        guard weight.allSatisfy(\.isFinite) else { throw GPTQError.nonFinite(module: module, what: "the weight") }
        if let prepared, prepared.columns != columns {
            throw GPTQError.hessianShape(module: module, width: prepared.columns, expected: columns)
        }
        let groups = (columns + group - 1) / group

        // Inputs that never fired are quantized as zeros (the reference's W[:, dead] = 0).
        var w = weight
        for i in prepared?.deadColumns ?? [] { for r in 0..<rows { w[r * columns + i] = 0 } }
        let factor = prepared?.upper
        let perm = prepared?.permutation ?? Array(0..<columns)
        let sweepActOrder = prepared != nil && settings.activationOrder.permutes

        // Which group each swept position uses, and whether groups are fitted before the sweep.
        let position = sweepActOrder ? perm : Array(0..<columns)
        let staticGroups = settings.activationOrder == .static || settings.groupSize == nil
        let positionGroup = (0..<columns).map { Int32(staticGroups ? position[$0] / group : $0 / group) }
        let fitDuringSweep = !staticGroups && settings.scaleFitting == .sweep
        var groupIndex = [Int32](repeating: 0, count: columns)
        for p in 0..<columns { groupIndex[position[p]] = positionGroup[p] }

        // The weights in sweep order.
        var permuted = w
        if sweepActOrder {
            for r in 0..<rows { for p in 0..<columns { permuted[r * columns + p] = w[r * columns + perm[p]] } }
        }

        let chunks = (rows + rowChunk - 1) / rowChunk
        let buffers = ChunkSweep.Buffers(original: w, permuted: permuted, groups: groups, rows: rows, chunks: chunks)
        let sweep = ChunkSweep(rows: rows, columns: columns, groups: groups, group: group, settings: settings,
                               fitDuringSweep: fitDuringSweep, staticGroups: staticGroups, positionGroup: positionGroup,
                               factor: factor, module: module)
        let failure = FirstFailure()
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let r0 = chunk * rowChunk
            do {
                try sweep.run(chunk: chunk, rows: r0..<min(rows, r0 + rowChunk), buffers)
            } catch {
                failure.record(chunk: chunk, error)
            }
        }
        if let error = failure.first { throw error }

        // Back to the original column order.
        let codes = Array(buffers.codes), timing = Array(buffers.timing)
        var ordered = codes
        if sweepActOrder {
            for r in 0..<rows { for p in 0..<columns { ordered[r * columns + perm[p]] = codes[r * columns + p] } }
        }
        let linear = GroupQuantizedLinear(rows: rows, columns: columns, codes: ordered, scales: Array(buffers.scales),
                                         zeros: buffers.zeros.map { Int32($0) },
                                         groupIndex: groupIndex)
        return GPTQLayerResult(linear: linear, loss: buffers.loss.reduce(0, +), damp: prepared?.damp,
                               deadColumns: prepared?.deadColumns.count ?? 0,
                               seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                               factorSeconds: prepared?.seconds ?? 0,
                               sweepSeconds: stride(from: 0, to: timing.count, by: 2).reduce(0) { $0 + timing[$1] },
                               trailingSeconds: stride(from: 1, to: timing.count, by: 2).reduce(0) { $0 + timing[$1] })
    }
}

extension GPTQSolver {
    /// `U`, the upper Cholesky factor of `(P H Pᵀ + λI)⁻¹` in f32 (`H⁻¹ = UᵀU`), for `H = 2·hessian` in f64
    /// off the diagonal and `diagonal` on it (dead columns already fixed); `λ = damp · mean(diag H)`, with damp
    /// raised by 0.01 while LAPACK reports the matrix not positive definite (up to 1). `H` is read from the f32
    /// `hessian` as each attempt fills its f64 matrix, so the factorization holds one f64 copy, not two.
    ///
    /// Computed without forming `H⁻¹`: with `J` the reversal, `JHJ = L Lᵀ` (`dpotrf`) gives `H = R Rᵀ` for the
    /// upper triangular `R = JLJ`, so `H⁻¹ = R⁻ᵀR⁻¹` and `U = R⁻¹` (`dtrtri`), the same factor the reference
    /// reads after `cholesky → cholesky_inverse → cholesky(upper)`, in half the work and in f64.
    static func inverseHessianFactor(_ hessian: [Float], diagonal: [Double], perm: [Int], damp: Double,
                                     module: String) throws -> (factor: [Float], damp: Double) {
        let n = perm.count
        let meanDiagonal = diagonal.reduce(0.0, +) / Double(n)
        var step = 0
        while true {
            let fraction = damp + 0.01 * Double(step)
            guard fraction <= 1 + 1e-9 else { throw GPTQError.notPositiveDefinite(module: module, damp: fraction - 0.01) }
            var a = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                let source = perm[n - 1 - i] * n
                for j in 0..<i { a[i * n + j] = 2 * Double(hessian[source + perm[n - 1 - j]]) }
                a[i * n + i] = diagonal[perm[n - 1 - i]] + fraction * meanDiagonal
            }
            let factored = a.withUnsafeMutableBufferPointer { BLAS.choleskyLower($0.baseAddress!, n: n) }
            if factored {
                // R = JLJ is the 180° rotation of L: reverse the storage, keep the upper triangle.
                a.reverse()
                for i in 0..<n { for j in 0..<i { a[i * n + j] = 0 } }
                let inverted = a.withUnsafeMutableBufferPointer { BLAS.invertUpperTriangular($0.baseAddress!, n: n) }
                let factor = a.map { Float($0) }
                if inverted, factor.allSatisfy(\.isFinite), (0..<n).allSatisfy({ factor[$0 * n + $0] > 0 }) {
                    return (factor, fraction)
                }
            }
            step += 1
        }
    }
}

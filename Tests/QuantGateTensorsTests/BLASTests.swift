import Foundation
@testable import QuantGateTensors
import Testing

/// The tiled products against plain f64 loops, and their independence from how the tiles are scheduled.
@Suite("BLAS")
struct BLASTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
    }

    @Test("tiles depend on the shape alone: the tiled product equals its tiles run one by one on one thread bit for bit, and one OpenBLAS call to rounding",
          arguments: [(512, 8192, 64), (256, 20000, 48), (1500, 300, 40), (40, 512, 96)])
    func tilingIsScheduleIndependent(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let (rows, columns) = BLAS.outputTiles(m: m, n: n)
        #expect(rows <= 1024 && columns >= 128 && columns % 64 == 0)
        #expect(((m + rows - 1) / rows) * ((n + columns - 1) / columns) >= min(8, (n + 127) / 128))
        let a = Self.random(m * k, seed: 5), b = Self.random(n * k, seed: 6)
        var tiled = [Float](repeating: 0, count: m * n), oneByOne = tiled, single = tiled
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                tiled.withUnsafeMutableBufferPointer {
                    BLAS.gemm(transposeB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k,
                              c: $0.baseAddress!, ldc: n)
                }
                // The same tiles in order on this thread (a product below the tiling threshold is one call).
                let small = m * n * k < BLAS.smallProduct
                oneByOne.withUnsafeMutableBufferPointer { c in
                    for r0 in stride(from: 0, to: m, by: small ? m : rows) {
                        for c0 in stride(from: 0, to: n, by: small ? n : columns) {
                            BLAS.serialGEMM(transposeB: true, m: small ? m : min(rows, m - r0), n: small ? n : min(columns, n - c0), k: k,
                                            a: ap.baseAddress! + r0 * k, lda: k, b: bp.baseAddress! + c0 * k, ldb: k,
                                            c: c.baseAddress! + r0 * n + c0, ldc: n)
                        }
                    }
                }
                single.withUnsafeMutableBufferPointer {
                    BLAS.serialGEMM(transposeB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k,
                                    c: $0.baseAddress!, ldc: n)
                }
            }
        }
        // Counted rather than compared as arrays: a failure then reports a number, not a diff of a million floats.
        #expect(zip(tiled, oneByOne).filter { $0.bitPattern != $1.bitPattern }.count == 0)
        // OpenBLAS's Haswell/Zen sgemm rounds some elements of a call differently with the call's row and column
        // counts (SkylakeX's blocked kernels do not): the whole product as one call agrees to f32 rounding.
        let worst = zip(tiled, single).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * Float(k), "max |Δ| \(worst)")
    }

    @Test("a product whose B arrives in bands equals the whole product bit for bit, each band asked for once, in order",
          arguments: [(1, 128_256, 64, 16384), (300, 5000, 96, 1000), (40, 4096, 64, 256), (7, 300, 16, 64)])
    func bandsChangeNoBits(shape: (Int, Int, Int, Int)) {
        let (m, n, k, bandRows) = shape
        let a = Self.random(m * k, seed: 7), b = Self.random(n * k, seed: 8)
        var banded = [Float](repeating: 0, count: m * n), whole = banded
        var asked: [Range<Int>] = []
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                whole.withUnsafeMutableBufferPointer {
                    BLAS.gemm(transposeB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k,
                              c: $0.baseAddress!, ldc: n)
                }
            }
            banded.withUnsafeMutableBufferPointer { cp in
                BLAS.gemmTransposedBands(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, bandRows: bandRows, rowsOfB: { range in
                    asked.append(range)
                    return Array(b[(range.lowerBound * k)..<(range.upperBound * k)])
                }, c: cp.baseAddress!, ldc: n)
            }
        }
        #expect(banded == whole)
        #expect(asked.first?.lowerBound == 0 && asked.last?.upperBound == n)
        #expect(zip(asked, asked.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(asked)")
    }

    @Test("gemm with and without transposes over several tiles equals the f64 product; gramUpper equals XᵀX")
    func products() {
        let (m, n, k) = (300, 520, 70)
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = Self.random(m * k, seed: 1), b = Self.random(k * n, seed: 2)
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: ap.baseAddress!, lda: ta ? m : k,
                                  b: bp.baseAddress!, ldb: tb ? k : n, c: cp.baseAddress!, ldc: n)
                    }
                }
            }
            var worst = 0.0
            for i in stride(from: 0, to: m, by: 7) {
                for j in stride(from: 0, to: n, by: 11) {
                    var sum = 0.0
                    for p in 0..<k { sum += Double(ta ? a[p * m + i] : a[i * k + p]) * Double(tb ? b[j * k + p] : b[p * n + j]) }
                    worst = max(worst, abs(sum - Double(c[i * n + j])))
                }
            }
            #expect(worst < 1e-4, "transposes \(ta) \(tb): \(worst)")
        }
        let (rows, width) = (90, 1100)
        let x = Self.random(rows * width, seed: 3)
        var g = [Float](repeating: 0, count: width * width)
        x.withUnsafeBufferPointer { xp in g.withUnsafeMutableBufferPointer { BLAS.gramUpper(xp.baseAddress!, rows: rows, width: width, into: $0.baseAddress!) } }
        for (i, j) in [(0, 0), (3, 1099), (257, 700), (1099, 1099), (512, 513)] {
            let expected = (0..<rows).reduce(0.0) { $0 + Double(x[$1 * width + i]) * Double(x[$1 * width + j]) }
            #expect(abs(Double(g[i * width + j]) - expected) < 1e-3)
        }
    }

    @Test("a product computed twice, and concurrently with others, is bit-identical")
    func repeatable() {
        let (m, n, k) = (600, 600, 300)
        let a = Self.random(m * k, seed: 4), b = Self.random(k * n, seed: 5)
        @Sendable func product() -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { BLAS.gemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: $0.baseAddress!, ldc: n) }
                }
            }
            return c
        }
        let first = product()
        let results = LockedArray()
        DispatchQueue.concurrentPerform(iterations: 3) { _ in results.append(product()) }
        #expect(results.values.allSatisfy { $0 == first })
    }

    final class LockedArray: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [[Float]] = []
        func append(_ value: [Float]) { lock.lock(); values.append(value); lock.unlock() }
    }
}

import CBLAS
import Dispatch

/// Matrix products and factorizations whose bits do not depend on the number of cores.
///
/// OpenBLAS's own threading splits a product differently for different thread counts (and its
/// one-thread path blocks the inner dimension differently again), so the same GEMM can round
/// differently under `OPENBLAS_NUM_THREADS=1`, on a 2-core CI box and on a 64-core server. Here
/// OpenBLAS always runs on the calling thread, and a large product is cut into fixed output tiles
/// that depend only on the shapes; the tiles run in parallel, each one a single-threaded call over
/// the whole inner dimension. Every output element is then computed by the same code on the same
/// operands whatever the core count, and quantized artefacts are byte-identical across machines
/// with the same CPU kind. Every BLAS and LAPACK call of QuantGate goes through here.
public enum BLAS {
    /// OpenBLAS pinned to the calling thread, once per process, before the first call.
    private static let pinned: Void = openblas_set_num_threads(1)

    /// Pins OpenBLAS to the calling thread (idempotent); call before using CBLAS or LAPACKE directly.
    public static func prepare() { _ = pinned }

    /// Square tile edge for ``gramUpper(_:rows:width:into:)``.
    static let tile = 256
    /// Products below this many multiply-adds run as one call.
    static let smallProduct = 1 << 20

    /// The output tiles of an `[m, n]` product, a function of the shape alone (never of the core count).
    ///
    /// Each tile is one OpenBLAS call that packs its rows of op(A) and its columns of op(B) again, so the
    /// packing work is `m·n·k·(1/rows + 1/columns)` against `2·m·n·k` for the product: tiles are as tall as
    /// the product up to 1024 rows and at least 256 columns wide, widening so that a wide product (an output
    /// head of 128k columns) is cut into 16 column tiles, not hundreds. Where a product has few tiles,
    /// columns down to 128 wide keep at least 8 of them for the cores. The tile shape is part of the numerics:
    /// OpenBLAS's small-matrix kernels (SkylakeX: m·n·k ≤ 10⁶) sum in another order than its blocked ones, and
    /// its Haswell/Zen sgemm rounds some elements differently for a call of other row or column counts (measured
    /// with OpenBLAS 0.3.21 on a Zen host: rows 256–511 of a 512-row product differ in 5 % of their elements from
    /// the same rows computed alone), so tiles depend on the shapes only and bits never on the core count.
    static func outputTiles(m: Int, n: Int) -> (rows: Int, columns: Int) {
        func roundUp64(_ x: Int) -> Int { (x + 63) / 64 * 64 }
        let rows = min(m, 1024)
        let rowTiles = (m + rows - 1) / rows
        var columns = max(256, roundUp64((n + 15) / 16))
        let wanted = (8 + rowTiles - 1) / rowTiles          // column tiles for at least 8 tiles in all
        if (n + columns - 1) / columns < wanted { columns = max(128, roundUp64((n + wanted - 1) / wanted)) }
        return (rows, columns)
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major, `op` transposing when asked; `C` is `[m, n]`.
    /// Tiled over the output and run on all cores; see the type's note on determinism.
    public static func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        prepare()
        guard m > 0, n > 0 else { return }
        let grid = TileGrid(m: m, n: n, k: k)
        if grid.isOneCall {
            serialGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let (aa, bb, cc) = (UnsafeSendable(a), UnsafeSendable(b), UnsafeSendable(c))
        grid.run(columnTiles: 0..<grid.columnTiles) { r0, rows, c0, columns in
            // op(A) rows r0..: A's rows (or columns when transposed); op(B) columns c0..: B's columns (or rows).
            let aTile = transposeA ? aa.pointer + r0 : aa.pointer + r0 * lda
            let bTile = transposeB ? bb.pointer + c0 * ldb : bb.pointer + c0
            serialGEMM(transposeA: transposeA, transposeB: transposeB, m: rows, n: columns, k: k, alpha: alpha,
                       a: aTile, lda: lda, b: bTile, ldb: ldb, beta: beta, c: cc.pointer + r0 * ldc + c0, ldc: ldc)
        }
    }

    /// `C = A · Bᵀ` (`A` `[m, k]`, `B` `[n, k]`, `C` `[m, n]`, row-major) for a `B` too large to hold:
    /// `rowsOfB(range)` supplies rows `range` of `B` as the product reaches them, in bands of whole output
    /// tiles of about `bandRows` rows (at least two tiles, for the cores). The tiles and each tile's call are
    /// those of ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` with `transposeB`, so `C`
    /// has the same bits as that product over the whole `B`.
    public static func gemmTransposedBands(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, bandRows: Int,
                                           rowsOfB: (Range<Int>) throws -> [Float], c: UnsafeMutablePointer<Float>, ldc: Int) rethrows {
        prepare()
        guard m > 0, n > 0 else { return }
        let grid = TileGrid(m: m, n: n, k: k)
        if grid.isOneCall {
            let b = try rowsOfB(0..<n)
            b.withUnsafeBufferPointer {
                serialGEMM(transposeB: true, m: m, n: n, k: k, a: a, lda: lda, b: $0.baseAddress!, ldb: k, c: c, ldc: ldc)
            }
            return
        }
        let tilesPerBand = max(2, bandRows / grid.tileColumns)
        let (aa, cc) = (UnsafeSendable(a), UnsafeSendable(c))
        for firstTile in stride(from: 0, to: grid.columnTiles, by: tilesPerBand) {
            let tiles = firstTile..<min(firstTile + tilesPerBand, grid.columnTiles)
            let lower = firstTile * grid.tileColumns
            let band = try rowsOfB(lower..<min(n, tiles.upperBound * grid.tileColumns))
            band.withUnsafeBufferPointer { pointer in
                let bb = UnsafeSendable(pointer.baseAddress!)
                grid.run(columnTiles: tiles) { r0, rows, c0, columns in
                    serialGEMM(transposeB: true, m: rows, n: columns, k: k, a: aa.pointer + r0 * lda, lda: lda,
                               b: bb.pointer + (c0 - lower) * k, ldb: k, c: cc.pointer + r0 * ldc + c0, ldc: ldc)
                }
            }
        }
    }

    /// ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` as one call on the calling
    /// thread (for callers that parallelize across independent products themselves).
    public static func serialGEMM(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                                  c: UnsafeMutablePointer<Float>, ldc: Int) {
        prepare()
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The upper triangle (diagonal tiles whole) of `XᵀX` for `x` `[rows, width]`, into `c` `[width, width]`
    /// (overwritten where written). Tiles of the upper triangle run on all cores.
    public static func gramUpper(_ x: UnsafePointer<Float>, rows: Int, width: Int, into c: UnsafeMutablePointer<Float>) {
        prepare()
        // Narrow matrices get 64-wide tiles so that even a 256-wide input spreads over the cores.
        let tile = width <= 1024 ? 64 : Self.tile
        let tiles = (width + tile - 1) / tile
        let pairs = (0..<tiles).flatMap { i in (i..<tiles).map { j in (i, j) } }
        let (xx, cc) = (UnsafeSendable(x), UnsafeSendable(c))
        DispatchQueue.concurrentPerform(iterations: pairs.count) { index in
            let (i, j) = pairs[index]
            let (r0, c0) = (i * tile, j * tile)
            serialGEMM(transposeA: true, m: min(tile, width - r0), n: min(tile, width - c0), k: rows,
                       a: xx.pointer + r0, lda: width, b: xx.pointer + c0, ldb: width, c: cc.pointer + r0 * width + c0, ldc: width)
        }
    }

    /// Lower Cholesky factor of the symmetric positive definite row-major `a` `[n, n]` in place (f64).
    /// - Returns: false when `a` is not positive definite (LAPACK `dpotrf` info > 0).
    public static func choleskyLower(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        prepare()
        return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), a, Int32(n)) == 0
    }

    /// Inverse of the upper triangular row-major `a` `[n, n]` in place (f64, LAPACK `dtrtri`).
    /// - Returns: false when `a` is singular.
    public static func invertUpperTriangular(_ a: UnsafeMutablePointer<Double>, n: Int) -> Bool {
        prepare()
        return LAPACKE_dtrtri(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int8(UInt8(ascii: "N")), Int32(n), a, Int32(n)) == 0
    }
}

/// The output tiles of an `[m, n]` product (``BLAS/outputTiles(m:n:)``), or one call when the product is small
/// or has one tile: what ``BLAS/gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` and
/// ``BLAS/gemmTransposedBands(m:n:k:a:lda:bandRows:rowsOfB:c:ldc:)`` share, so both make the same calls.
private struct TileGrid {
    let m: Int, n: Int
    let tileRows: Int, tileColumns: Int
    let rowTiles: Int, columnTiles: Int
    let isOneCall: Bool

    init(m: Int, n: Int, k: Int) {
        (self.m, self.n) = (m, n)
        (tileRows, tileColumns) = BLAS.outputTiles(m: m, n: n)
        rowTiles = (m + tileRows - 1) / tileRows
        columnTiles = (n + tileColumns - 1) / tileColumns
        isOneCall = m * n * k < BLAS.smallProduct || rowTiles * columnTiles == 1
    }

    /// Runs `tile(firstRow, rows, firstColumn, columns)` for every row tile and the column tiles `columnTiles`,
    /// in parallel.
    func run(columnTiles range: Range<Int>, _ tile: @Sendable (Int, Int, Int, Int) -> Void) {
        let (m, n, tileRows, tileColumns, width) = (m, n, tileRows, tileColumns, range.count)
        DispatchQueue.concurrentPerform(iterations: rowTiles * width) { index in
            let r0 = (index / width) * tileRows, c0 = (range.lowerBound + index % width) * tileColumns
            tile(r0, min(tileRows, m - r0), c0, min(tileColumns, n - c0))
        }
    }
}

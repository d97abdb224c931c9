import Dispatch
import QuantGateTensors

/// Accumulates ``ChannelStatistics`` over `[tokens, width]` activation matrices.
///
/// Sums run in f64, channel by channel in token order, split across cores by fixed channel
/// ranges; the Hessian is one tiled `XᵀX` per matrix (XᵀX of that window in f32) added into an f64
/// upper triangle. Neither the thread count nor the scheduling changes a single bit of the result.
struct ChannelAccumulator {
    let width: Int
    private(set) var tokens = 0
    private var absSum: [Double]
    private var squareSum: [Double]
    private var maxAbs: [Float]
    private var hessian: HessianAccumulator?

    init(width: Int, hessian: Bool) {
        self.width = width
        absSum = [Double](repeating: 0, count: width)
        squareSum = [Double](repeating: 0, count: width)
        maxAbs = [Float](repeating: 0, count: width)
        self.hessian = hessian ? HessianAccumulator(width: width) : nil
    }

    /// Seconds spent in the Hessian accumulation so far (for the benchmark).
    var hessianSeconds: Double { hessian?.seconds ?? 0 }

    /// Adds every row of `x` (`[rows, width]`).
    mutating func add(_ x: Matrix) {
        precondition(x.columns == width, "activation width \(x.columns), accumulator width \(width)")
        let rows = x.rows
        let n = width
        x.values.withUnsafeBufferPointer { source in
            absSum.withUnsafeMutableBufferPointer { absolute in
                squareSum.withUnsafeMutableBufferPointer { square in
                    maxAbs.withUnsafeMutableBufferPointer { maximum in
                        let input = UnsafeSendable(source.baseAddress!)
                        let sums = UnsafeSendable(absolute.baseAddress!)
                        let squares = UnsafeSendable(square.baseAddress!)
                        let maxima = UnsafeSendable(maximum.baseAddress!)
                        let chunks = (n + Self.channelChunk - 1) / Self.channelChunk
                        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                            let lower = chunk * Self.channelChunk
                            let upper = min(n, lower + Self.channelChunk)
                            for r in 0..<rows {
                                let row = input.pointer + r * n
                                for c in lower..<upper {
                                    let value = row[c]
                                    let magnitude = abs(value)
                                    sums.pointer[c] += Double(magnitude)
                                    squares.pointer[c] += Double(value) * Double(value)
                                    maxima.pointer[c] = max(maxima.pointer[c], magnitude)
                                }
                            }
                        }
                    }
                }
            }
        }
        hessian?.add(x)
        tokens += rows
    }

    /// The means over every token added (zeros before any).
    func finish() -> ChannelStatistics {
        let count = Double(max(tokens, 1))
        return ChannelStatistics(
            tokens: tokens,
            meanAbs: absSum.map { Float($0 / count) },
            maxAbs: maxAbs,
            meanSquare: squareSum.map { Float($0 / count) },
            hessian: hessian?.mean())
    }

    /// Channels per parallel task: 64 f32 channels are four cache lines of each row.
    private static let channelChunk = 64
}

/// `Σ XᵀX` over activation matrices: ``BLAS/gramUpper(_:rows:width:into:)`` per matrix into an f32 scratch, summed into f64.
/// Quantizers that measure inputs themselves (GPTQ's true-sequential order) use it directly.
public struct HessianAccumulator {
    public let width: Int
    /// Rows added so far.
    public private(set) var tokens = 0
    private var sum: [Double]
    private var scratch: [Float]
    /// Seconds spent in ``add(_:)`` so far (for the benchmark).
    public private(set) var seconds = 0.0

    /// An empty sum over `width` channels.
    public init(width: Int) {
        self.width = width
        sum = [Double](repeating: 0, count: width * width)
        scratch = [Float](repeating: 0, count: width * width)
    }

    /// Adds `xᵀx` for `x` `[rows, width]`.
    public mutating func add(_ x: Matrix) {
        let started = DispatchTime.now().uptimeNanoseconds
        let n = width
        // scratch = xᵀ·x, the upper triangle (core-count independent tiles, see BLAS).
        x.values.withUnsafeBufferPointer { source in
            scratch.withUnsafeMutableBufferPointer { BLAS.gramUpper(source.baseAddress!, rows: x.rows, width: n, into: $0.baseAddress!) }
        }
        scratch.withUnsafeBufferPointer { source in
            sum.withUnsafeMutableBufferPointer { target in
                let from = UnsafeSendable(source.baseAddress!)
                let into = UnsafeSendable(target.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: n) { i in
                    let row = i * n
                    for j in i..<n { into.pointer[row + j] += Double(from.pointer[row + j]) }
                }
            }
        }
        tokens += x.rows
        seconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// The symmetric mean `ΣXᵀX / tokens` in f32, both triangles filled (zeros before any row).
    public func mean() -> [Float] {
        let n = width
        let scale = 1 / Double(max(tokens, 1))
        var result = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                let value = Float(sum[i * n + j] * scale)
                result[i * n + j] = value
                result[j * n + i] = value
            }
        }
        return result
    }
}

import Dispatch
import QuantGateModel
import QuantGateTensors

/// What a calibration run will cost, estimated before running it: peak memory by part, the cache
/// file's size, and the time at speeds measured on this machine.
public struct Preflight: Codable, Sendable, Equatable {
    /// Hidden states of every window for one block (f32).
    public var hiddenStateBytes: Int
    /// Converted f32 weights held at once: embeddings, output head, and every block when the model
    /// keeps them resident, else one block (a streamed model reads the embeddings and head as it needs them).
    public var weightBytes: Int
    /// One window's activations inside a block.
    public var activationBytes: Int
    /// Statistics accumulators for one block (the f64 Hessian sums dominate when collected).
    public var accumulatorBytes: Int
    /// The HDF5 statistics file.
    public var cacheFileBytes: Int
    /// Estimated seconds for the forward passes and for the Hessian accumulation.
    public var forwardSeconds: Double, hessianSeconds: Double
    /// Measured rates the estimate rests on.
    public var forwardTokensPerSecond: Double, syrkGFLOPS: Double

    public var peakBytes: Int { hiddenStateBytes + weightBytes + activationBytes + accumulatorBytes }
    public var seconds: Double { forwardSeconds + hessianSeconds }

    /// - Parameters:
    ///   - forwardTokensPerSecond: whole-model forward speed measured on this machine (``FitCheck``).
    ///   - sequential: whether a quantizer runs between blocks (each block then runs twice).
    public static func estimate(model: LlamaModel, set: CalibrationSet, hessian: Bool, sequential: Bool,
                                forwardTokensPerSecond: Double) -> Preflight {
        estimate(configuration: model.configuration, windows: set.windows.map(\.count), hessian: hessian, sequential: sequential,
                 resident: model.keepsBlocksResident, forwardTokensPerSecond: forwardTokensPerSecond)
    }

    /// The estimate for a model of configuration `c` on windows of `windows` tokens each.
    /// - Parameter resident: whether the model keeps every block converted (else one block at a time).
    public static func estimate(configuration c: LlamaConfiguration, windows: [Int], hessian: Bool, sequential: Bool, resident: Bool,
                                forwardTokensPerSecond: Double) -> Preflight {
        let tokens = windows.reduce(0, +)
        let length = windows.max() ?? 0
        let widths = LinearInput.allCases.map { $0.width(c) }
        let outerWeights = c.vocabularyMatrixBytes * (c.tieWordEmbeddings ? 1 : 2)
        let activations = c.windowActivationBytes(tokens: length) + (sequential ? length * c.hiddenSize * 4 : 0)
        let accumulator = widths.reduce(0) { $0 + $1 * 20 + (hessian ? $1 * $1 * 12 : 0) } + c.hiddenSize * 20
        let perLayerFile = widths.reduce(0) { $0 + $1 * 12 + (hessian ? $1 * $1 * 4 : 0) } + c.hiddenSize * 12
        let syrk = hessian ? measureSyrkGFLOPS(width: c.hiddenSize, rows: max(length, 1)) : 0
        let hessianFLOPs = Double(widths.reduce(0) { $0 + $1 * $1 }) * Double(tokens) * Double(c.layerCount)
        return Preflight(
            hiddenStateBytes: tokens * c.hiddenSize * 4,
            weightBytes: resident ? outerWeights + c.blockWeightBytes * c.layerCount : c.blockWeightBytes,
            activationBytes: activations,
            accumulatorBytes: accumulator,
            cacheFileBytes: perLayerFile * c.layerCount + tokens * 4 + 4096,
            forwardSeconds: Double(tokens) * (sequential ? 2 : 1) / max(forwardTokensPerSecond, 1e-9),
            hessianSeconds: hessian ? hessianFLOPs / (syrk * 1e9) : 0,
            forwardTokensPerSecond: forwardTokensPerSecond, syrkGFLOPS: syrk)
    }

    /// Hessian (`XᵀX`) GFLOP/s (n² · rows multiply-adds counted as n(n+1)·rows FLOPs) on one `[rows, width]` matrix.
    static func measureSyrkGFLOPS(width: Int, rows: Int) -> Double {
        let x = [Float](repeating: 0.5, count: width * rows)
        var c = [Float](repeating: 0, count: width * width)
        var best = Double.infinity
        for _ in 0..<3 {
            let started = DispatchTime.now().uptimeNanoseconds
            x.withUnsafeBufferPointer { source in
                c.withUnsafeMutableBufferPointer { BLAS.gramUpper(source.baseAddress!, rows: rows, width: width, into: $0.baseAddress!) }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        }
        return Double(width) * Double(width + 1) * Double(rows) / max(best, 1e-9) / 1e9
    }
}

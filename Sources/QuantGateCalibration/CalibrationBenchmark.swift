import Dispatch
import QuantGateModel
import QuantGateTensors

/// Calibration speed next to the plain forward pass over the same windows, in the same run.
public struct CalibrationBenchmark: Codable, Sendable {
    /// Tokens per pass.
    public var tokens: Int
    /// Embedding plus every block, nothing measured.
    public var forwardTokensPerSecond: Double
    /// The calibrator without and with Hessians.
    public var calibrationTokensPerSecond: Double, calibrationWithHessianTokensPerSecond: Double
    /// Hessian accumulation rate (ssyrk plus the f64 sum) and raw `ssyrk` on the same shapes.
    public var hessianGFLOPS: Double, rawSyrkGFLOPS: Double

    /// Extra time of calibration over the forward pass, as a fraction (goal ≤ 0.25).
    public var overhead: Double { forwardTokensPerSecond / calibrationTokensPerSecond - 1 }
    /// Hessian accumulation over raw ssyrk (goal ≥ 0.5).
    public var hessianRatio: Double { hessianGFLOPS / rawSyrkGFLOPS }

    /// Best of `repeats` runs of each, after one warm-up forward pass.
    public static func run(model: LlamaModel, windows: [[Int]], repeats: Int = 2) throws -> CalibrationBenchmark {
        let c = model.configuration
        let tokens = windows.reduce(0) { $0 + $1.count }
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let started = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        }
        func forward() throws {
            var hidden = try windows.map { try model.embed($0) }
            for layer in 0..<c.layerCount {
                let weights = try model.blockWeights(layer)
                for w in hidden.indices { model.runBlock(weights: weights, hidden: &hidden[w]) }
            }
        }
        try forward()
        var forwardBest = Double.infinity, plainBest = Double.infinity, hessianBest = Double.infinity
        var hessianSeconds = Double.infinity
        for _ in 0..<repeats {
            forwardBest = min(forwardBest, try seconds(forward))
            let plain = Calibrator(model: model, collectHessian: false)
            plainBest = min(plainBest, try seconds { try plain.run(windows: windows) { _ in } })
            let full = Calibrator(model: model, collectHessian: true)
            hessianBest = min(hessianBest, try seconds { try full.run(windows: windows) { _ in } })
            hessianSeconds = min(hessianSeconds, full.hessianSeconds)
        }
        let widths = LinearInput.allCases.map { $0.width(c) }
        let flops = widths.reduce(0.0) { $0 + Double($1) * Double($1 + 1) } * Double(tokens) * Double(c.layerCount)
        // Raw ssyrk on each input width at the windows' length, weighted by its share of the FLOPs.
        let length = windows.map(\.count).max() ?? 1
        let rawSeconds = widths.reduce(0.0) { total, width in
            let perWindow = Double(width) * Double(width + 1) * Double(length)
            return total + perWindow * Double(windows.count * c.layerCount) / (Preflight.measureSyrkGFLOPS(width: width, rows: length) * 1e9)
        }
        return CalibrationBenchmark(
            tokens: tokens,
            forwardTokensPerSecond: Double(tokens) / forwardBest,
            calibrationTokensPerSecond: Double(tokens) / plainBest,
            calibrationWithHessianTokensPerSecond: Double(tokens) / hessianBest,
            hessianGFLOPS: flops / hessianSeconds / 1e9,
            rawSyrkGFLOPS: flops / rawSeconds / 1e9)
    }
}

import Dispatch
import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateTensors

/// GPTQ speed on a model's own Linears: per Linear the wall time of one GPTQ solve, the share of it in the
/// LAPACK factorization, and how the column sweep's core time splits between the BLAS trailing updates and
/// the C column kernel; next to the same matrix's plain round-to-nearest (the floor of any quantizer).
public enum GPTQBenchmark {
    public struct Row: Encodable, Sendable {
        public var module: String
        /// `[out, in]`.
        public var shape: [Int]
        /// Best-of-repeats wall seconds of a GPTQ solve and of round-to-nearest on the same grid.
        public var seconds: Double, roundToNearestSeconds: Double
        /// Share of the GPTQ wall time in LAPACK (`dpotrf` + `dtrtri`).
        public var lapackShare: Double
        /// Share of the sweep's core time in BLAS trailing updates (the rest is the C column kernel).
        public var blasShareOfSweep: Double
    }

    /// Times block `layer`'s seven Linears with Hessians of their real inputs on `tokens` seeded random tokens.
    public static func run(model: LlamaModel, layer: Int = 0, tokens: Int = 512, repeats: Int = 3,
                           settings: GPTQSolverSettings = GPTQSolverSettings()) throws -> [Row] {
        let c = model.configuration
        var (run, weights) = try model.benchmarkRun(layer: layer, tokens: tokens, seed: 0x6A7)
        var rows: [Row] = []
        for step in GPTQBlockQuantizer.steps {
            model.advance(&run, weights: weights)
            var accumulator = HessianAccumulator(width: step.point.width(c))
            accumulator.add(run.input!)
            let hessian = accumulator.mean()
            for linear in step.linears {
                let w = weights[keyPath: linear.weight]
                let columns = step.point.width(c)
                let module = "model.layers.\(layer).\(linear.stem)"
                var last: GPTQLayerResult?
                let seconds = try BenchmarkTiming.best(repeats) {
                    last = try GPTQSolver.quantize(weight: w, rows: w.count / columns, columns: columns, hessian: hessian,
                                                   settings: settings, module: module)
                }
                let rtn = try BenchmarkTiming.best(repeats) {
                    _ = try GPTQSolver.quantize(weight: w, rows: w.count / columns, columns: columns, hessian: nil, settings: settings, module: module)
                }
                guard let result = last else { continue }
                let sweep = result.sweepSeconds + result.trailingSeconds
                rows.append(Row(module: module, shape: [w.count / columns, columns], seconds: seconds, roundToNearestSeconds: rtn,
                                lapackShare: result.factorSeconds / max(result.factorSeconds + result.seconds, 1e-12),
                                blasShareOfSweep: result.trailingSeconds / max(sweep, 1e-12)))
            }
        }
        return rows
    }
}

import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateTensors

/// GPTQ inside sequential calibration: block `k` is quantized from Hessians measured on what the
/// already-quantized blocks `0 ..< k` output, and its dequantized weights then produce block `k + 1`'s inputs.
///
/// With `trueSequential` (the reference's `--true-sequential`, GPTQModel's default) the block's Linears go
/// in four steps, each measured after the previous ones are quantized: q/k/v, then o, then gate/up, then
/// down. Without it, every Linear uses the Hessian of the block's one measuring pass (llm-compressor's order).
public final class GPTQBlockQuantizer: BlockQuantizer {
    /// One quantized Linear.
    public struct Entry: Sendable {
        public let module: String
        public let result: GPTQLayerResult
    }

    /// The model the calibrator runs (true-sequential steps its blocks itself).
    public let model: LlamaModel
    public let settings: GPTQSolverSettings
    public let trueSequential: Bool
    /// Receives each quantized Linear in block order, as soon as it is quantized (the quantizer keeps none).
    private let consume: (Entry) throws -> Void

    /// - Parameters:
    ///   - model: the calibrator's model (the one whose blocks are replaced).
    ///   - consume: receives each quantized Linear in block order; what it throws stops the calibration.
    public init(model: LlamaModel, settings: GPTQSolverSettings, trueSequential: Bool, consume: @escaping (Entry) throws -> Void) {
        (self.model, self.settings, self.trueSequential, self.consume) = (model, settings, trueSequential, consume)
    }

    /// The Linears of a block by input point, with where their weights sit in ``LlamaBlockWeights``.
    static var steps: [(point: LinearInput, linears: [(stem: String, weight: WritableKeyPath<LlamaBlockWeights, [Float]>)])] { [
        (.attention, [("self_attn.q_proj", \.q), ("self_attn.k_proj", \.k), ("self_attn.v_proj", \.v)]),
        (.attentionOutput, [("self_attn.o_proj", \.o)]),
        (.mlp, [("mlp.gate_proj", \.gate), ("mlp.up_proj", \.up)]),
        (.mlpHidden, [("mlp.down_proj", \.down)]),
    ] }

    /// True-sequential quantization measures each input itself, after the Linears before it are replaced.
    public var needsMeasuringPass: Bool { !trueSequential }

    /// With true-sequential, the block's outputs with the quantized weights (computed on the way).
    private var outputs: [Matrix]?

    public func takeOutputs() -> [Matrix]? {
        defer { outputs = nil }
        return outputs
    }

    public func quantize(layer: Int, weights: LlamaBlockWeights, statistics: BlockStatistics, inputs: [Matrix]) throws -> LlamaBlockWeights? {
        var block = weights
        var runs = inputs.map(BlockRun.init)
        for step in Self.steps {
            // One factorization for every Linear reading this input.
            let columns = step.point.width(model.configuration)
            let factor = try hessianFactor(step.point, module: "model.layers.\(layer).\(step.linears[0].stem)", runs: &runs,
                                           weights: block, statistics: statistics)
            for linear in step.linears {
                let module = "model.layers.\(layer).\(linear.stem)"
                let w = block[keyPath: linear.weight]
                let result = try GPTQSolver.quantize(weight: w, rows: w.count / columns, columns: columns, factor: factor,
                                                     settings: settings, module: module)
                block[keyPath: linear.weight] = result.linear.dequantized()
                try consume(Entry(module: module, result: result))
            }
        }
        if trueSequential {
            for w in runs.indices { model.advance(&runs[w], weights: block) }
            outputs = runs.map(\.hidden)
        }
        return block
    }

    /// The GPTQ factor of the Hessian at `point`: measured now by stepping every window there (true-sequential,
    /// with the Linears before it already quantized), else the measuring pass's. The Hessian and its f64 sum
    /// are released before the Linears' sweeps (a 14336-wide `down_proj` input's sum is 1.6 GB).
    private func hessianFactor(_ point: LinearInput, module: String, runs: inout [BlockRun], weights: LlamaBlockWeights,
                               statistics: BlockStatistics) throws -> GPTQHessianFactor {
        let hessian: [Float]
        if trueSequential {
            var accumulator = HessianAccumulator(width: point.width(model.configuration))
            for w in runs.indices {
                model.advance(&runs[w], weights: weights)
                accumulator.add(runs[w].input!)
            }
            hessian = accumulator.mean()
        } else {
            guard let measured = statistics.inputs.first(where: { $0.point == point })?.statistics.hessian else {
                throw GPTQError.missingHessian(module: module)
            }
            hessian = measured
        }
        return try GPTQSolver.factor(hessian: hessian, columns: point.width(model.configuration), settings: settings, module: module)
    }
}

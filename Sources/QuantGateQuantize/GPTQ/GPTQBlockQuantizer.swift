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
    /// Quantized Linears in block order.
    public private(set) var entries: [Entry] = []
    private let progress: ((Entry) -> Void)?

    /// - Parameter model: the calibrator's model (the one whose blocks are replaced).
    public init(model: LlamaModel, settings: GPTQSolverSettings, trueSequential: Bool, progress: ((Entry) -> Void)? = nil) {
        (self.model, self.settings, self.trueSequential, self.progress) = (model, settings, trueSequential, progress)
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
            let hessian: [Float]?
            if trueSequential {
                // Every window to this input, with the Linears before it already quantized.
                var accumulator = HessianAccumulator(width: step.point.width(model.configuration))
                for w in runs.indices {
                    model.advance(&runs[w], weights: block)
                    accumulator.add(runs[w].input!)
                }
                hessian = accumulator.mean()
            } else {
                hessian = statistics.inputs.first { $0.point == step.point }?.statistics.hessian
            }
            guard let hessian else { throw GPTQError.missingHessian(module: "model.layers.\(layer).\(step.linears[0].stem)") }
            // One factorization for every Linear reading this input.
            let columns = step.point.width(model.configuration)
            let factor = try GPTQSolver.factor(hessian: hessian, columns: columns, settings: settings,
                                               module: "model.layers.\(layer).\(step.linears[0].stem)")
            for linear in step.linears {
                let module = "model.layers.\(layer).\(linear.stem)"
                let w = block[keyPath: linear.weight]
                let result = try GPTQSolver.quantize(weight: w, rows: w.count / columns, columns: columns, factor: factor,
                                                     settings: settings, module: module)
                block[keyPath: linear.weight] = result.linear.dequantized()
                let entry = Entry(module: module, result: result)
                entries.append(entry)
                progress?(entry)
            }
        }
        if trueSequential {
            for w in runs.indices { model.advance(&runs[w], weights: block) }
            outputs = runs.map(\.hidden)
        }
        return block
    }
}

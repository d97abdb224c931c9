import QuantGateTensors

/// One window through one decoder block, a Linear input at a time, so that a quantizer can replace the
/// Linears reading an input before the block goes on, without recomputing what came before (GPTQ's
/// true-sequential order: q/k/v, then o, then gate/up, then down). Every step computes exactly what
/// ``LlamaModel/runBlock(weights:hidden:start:observe:)`` computes, with the weights given at that step.
public struct BlockRun: Sendable {
    /// The residual stream: the block's input, then the sum after attention, then the block's output.
    public internal(set) var hidden: Matrix
    /// The last Linear input computed, and which one it is (nil before the first step).
    public internal(set) var input: Matrix?
    public internal(set) var point: LinearInput?
    /// Whether ``LlamaModel/advance(_:weights:)`` has produced the block's output.
    public internal(set) var finished = false

    /// A run over `hidden` (`[T, hidden]`, positions from 0).
    public init(hidden: Matrix) {
        self.hidden = hidden
    }
}

extension LlamaModel {
    /// Takes `run` to the next Linear input (`attention` first) using `weights` for the Linears before it, or,
    /// after `mlpHidden`, through down_proj to the block's output (`run.finished`).
    public func advance(_ run: inout BlockRun, weights w: LlamaBlockWeights) {
        precondition(!run.finished, "the block run is finished")
        switch run.point {
        case nil:
            (run.point, run.input) = (.attention, attentionInput(w, hidden: run.hidden))
        case .attention?:
            var uncached: KVCache.Layer? = nil
            (run.point, run.input) = (.attentionOutput, attention(w, input: run.input!, start: 0, cache: &uncached))
        case .attentionOutput?:
            let y = mlpInput(w, hidden: &run.hidden, attended: run.input!)
            (run.point, run.input) = (.mlp, y)
        case .mlp?:
            (run.point, run.input) = (.mlpHidden, mlpActivation(w, input: run.input!))
        case .mlpHidden?:
            blockOutput(w, hidden: &run.hidden, activation: run.input!)
            (run.point, run.input, run.finished) = (nil, nil, true)
        }
    }
}

extension LlamaModel {
    /// A run of block `layer` on `tokens` seeded random tokens taken through the blocks before it, and the
    /// block's weights: the input the quantizer benchmarks time their work on.
    public func benchmarkRun(layer: Int, tokens: Int, seed: UInt64) throws -> (run: BlockRun, weights: LlamaBlockWeights) {
        var rng = SplitMix64(seed: seed)
        var hidden = try embed((0..<tokens).map { _ in Int(rng.next() % UInt64(configuration.vocabSize)) })
        for earlier in 0..<layer { try runBlock(earlier, hidden: &hidden) }
        return (BlockRun(hidden: hidden), try blockWeights(layer))
    }
}

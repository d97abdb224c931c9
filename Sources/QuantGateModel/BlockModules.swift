import QuantGateTensors

/// A block's sub-modules on their own, each from its Linear input to its output, for quantizers that
/// compare a module's output under candidate weights (AWQ's scale search). Each computes exactly what
/// the block computes at that point; positions start at 0.
extension LlamaModel {
    /// The attention module: q/k/v → RoPE → causal GQA → o_proj, from the input-normed hidden state.
    public func selfAttentionOutput(_ w: LlamaBlockWeights, input x: Matrix) -> Matrix {
        var uncached: KVCache.Layer? = nil
        return outputProjection(w, attended: attention(w, input: x, start: 0, cache: &uncached))
    }

    /// o_proj on the heads' concatenated output.
    public func outputProjection(_ w: LlamaBlockWeights, attended: Matrix) -> Matrix {
        Kernels.linear(attended, weight: w.o, outputs: configuration.hiddenSize, bias: w.oBias, rounding: w.inputQuantization.o)
    }

    /// The MLP: down_proj(silu(gate_proj y) · up_proj y), from the post-attention-normed hidden state.
    public func mlpOutput(_ w: LlamaBlockWeights, input y: Matrix) -> Matrix {
        downProjection(w, activation: mlpActivation(w, input: y))
    }

    /// down_proj on `silu(gate) · up`.
    public func downProjection(_ w: LlamaBlockWeights, activation: Matrix) -> Matrix {
        Kernels.linear(activation, weight: w.down, outputs: configuration.hiddenSize, bias: w.downBias, rounding: w.inputQuantization.down)
    }
}

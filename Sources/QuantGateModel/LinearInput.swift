/// The four points in a decoder block where a Linear reads its input. Linears that share a point
/// (q, k and v; gate and up) see the same activations, so calibration measures each point once.
public enum LinearInput: Int, CaseIterable, Sendable {
    /// The input-normed hidden state, read by q_proj, k_proj and v_proj.
    case attention
    /// The attention heads' concatenated output, read by o_proj.
    case attentionOutput
    /// The post-attention-normed hidden state, read by gate_proj and up_proj.
    case mlp
    /// `silu(gate) · up`, read by down_proj.
    case mlpHidden

    /// The Linears reading this input, as tensor-name stems under `model.layers.N.` (without `.weight`).
    public var linears: [String] {
        switch self {
        case .attention: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]
        case .attentionOutput: ["self_attn.o_proj"]
        case .mlp: ["mlp.gate_proj", "mlp.up_proj"]
        case .mlpHidden: ["mlp.down_proj"]
        }
    }

    /// The width of this input (the Linears' `in` features).
    public func width(_ c: LlamaConfiguration) -> Int {
        switch self {
        case .attention, .mlp: c.hiddenSize
        case .attentionOutput: c.headCount * c.headDim
        case .mlpHidden: c.intermediateSize
        }
    }
}

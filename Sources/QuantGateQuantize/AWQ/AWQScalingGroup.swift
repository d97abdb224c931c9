import QuantGateModel
import QuantGateTensors

/// One of AWQ's scaling groups in a Llama block (AutoAWQ's `get_layers_for_scaling`,
/// ../shared/design/ALGORITHMS.md §2.3): the Linears reading one input, the op before them that absorbs
/// the inverse scales, and the module whose output the α search compares.
struct AWQScalingGroup {
    /// The op whose output the Linears read, divided by the scales.
    enum Previous {
        /// An RMSNorm's weight (and nothing else: Llama's norms have no bias).
        case norm(name: String, weight: WritableKeyPath<LlamaBlockWeights, [Float]>)
        /// A Linear's output rows and bias (v_proj before o_proj, up_proj before down_proj).
        case linear(stem: String, weight: WritableKeyPath<LlamaBlockWeights, [Float]>, bias: WritableKeyPath<LlamaBlockWeights, [Float]?>)

        var name: String {
            switch self {
            case .norm(let name, _): name
            case .linear(let stem, _, _): stem
            }
        }
    }

    /// The module compared in the α search, from its input.
    enum Inspected {
        case selfAttention, outputProjection, mlp, downProjection

        func output(_ model: LlamaModel, _ w: LlamaBlockWeights, _ x: Matrix) -> Matrix {
            switch self {
            case .selfAttention: model.selfAttentionOutput(w, input: x)
            case .outputProjection: model.outputProjection(w, attended: x)
            case .mlp: model.mlpOutput(w, input: x)
            case .downProjection: model.downProjection(w, activation: x)
            }
        }
    }

    let point: LinearInput
    let previous: Previous
    let linears: [(stem: String, weight: WritableKeyPath<LlamaBlockWeights, [Float]>, bias: WritableKeyPath<LlamaBlockWeights, [Float]?>)]
    let inspected: Inspected

    /// The four groups in block order.
    static var llama: [AWQScalingGroup] { [
        AWQScalingGroup(point: .attention, previous: .norm(name: "input_layernorm", weight: \.inputNorm),
                        linears: [("self_attn.q_proj", \.q, \.qBias), ("self_attn.k_proj", \.k, \.kBias), ("self_attn.v_proj", \.v, \.vBias)], inspected: .selfAttention),
        AWQScalingGroup(point: .attentionOutput, previous: .linear(stem: "self_attn.v_proj", weight: \.v, bias: \.vBias),
                        linears: [("self_attn.o_proj", \.o, \.oBias)], inspected: .outputProjection),
        AWQScalingGroup(point: .mlp, previous: .norm(name: "post_attention_layernorm", weight: \.postAttentionNorm),
                        linears: [("mlp.gate_proj", \.gate, \.gateBias), ("mlp.up_proj", \.up, \.upBias)], inspected: .mlp),
        AWQScalingGroup(point: .mlpHidden, previous: .linear(stem: "mlp.up_proj", weight: \.up, bias: \.upBias),
                        linears: [("mlp.down_proj", \.down, \.downBias)], inspected: .downProjection),
    ] }

    /// Whether the group is scaled in this model: v → o only when v_proj and o_proj have the same shape
    /// (no grouped-query attention; llm-awq PR #67), since v's rows must map one to one onto o's inputs.
    func applies(to c: LlamaConfiguration) -> Bool {
        guard case .linear(stem: "self_attn.v_proj", _, _) = previous else { return true }
        return c.kvHeadCount * c.headDim == c.hiddenSize && c.headCount * c.headDim == c.hiddenSize
    }

    /// Divides the previous op by `s` and multiplies the Linears' columns by it (AutoAWQ's `scale_ln_fcs`
    /// and `scale_fc_fc`); the block computes the same function in exact arithmetic.
    func apply(_ s: [Float], to w: inout LlamaBlockWeights) {
        switch previous {
        case .norm(_, let norm):
            w[keyPath: norm] = zip(w[keyPath: norm], s).map { $0 / $1 }
        case .linear(_, let weight, let bias):
            // Every output row of the previous Linear feeds one scaled input (v_proj → o_proj when the shapes
            // match, up_proj → down_proj), so row r is divided by s[r].
            var values = w[keyPath: weight]
            let columns = values.count / s.count
            precondition(columns * s.count == values.count, "the previous Linear has one output row per scaled input")
            for r in s.indices {
                for i in (r * columns)..<((r + 1) * columns) { values[i] = values[i] / s[r] }
            }
            w[keyPath: weight] = values
            if let b = w[keyPath: bias] { w[keyPath: bias] = zip(b, s).map { $0 / $1 } }
        }
        for linear in linears {
            var values = w[keyPath: linear.weight]
            for i in values.indices { values[i] = values[i] * s[i % s.count] }
            w[keyPath: linear.weight] = values
        }
    }

    /// Whether AWQ searches clamp bounds for `stem`: every Linear but q and k ("due to qk bmm, it is hard
    /// to clip precisely", AutoAWQ's `avoid_clipping`).
    static func clips(_ stem: String) -> Bool {
        !["q_", "k_"].contains { stem.contains($0) }
    }
}

/// A tensor a checkpoint must (or may) hold, with its shape in the checkpoint's `[out, in]` order.
public struct ExpectedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// False for tensors a checkpoint may omit (`lm_head.weight` when embeddings are tied).
    public var required: Bool
}

extension LlamaConfiguration {
    /// Every tensor of the Hugging Face checkpoint layout for this configuration.
    public var expectedTensors: [ExpectedTensor] {
        let qWidth = headCount * headDim
        let kvWidth = kvHeadCount * headDim
        var tensors = [ExpectedTensor(name: "model.embed_tokens.weight", shape: [vocabSize, hiddenSize], required: true)]
        for layer in 0..<layerCount {
            let prefix = "model.layers.\(layer)."
            func add(_ name: String, _ shape: [Int]) {
                tensors.append(ExpectedTensor(name: prefix + name, shape: shape, required: true))
            }
            add("input_layernorm.weight", [hiddenSize])
            add("self_attn.q_proj.weight", [qWidth, hiddenSize])
            add("self_attn.k_proj.weight", [kvWidth, hiddenSize])
            add("self_attn.v_proj.weight", [kvWidth, hiddenSize])
            add("self_attn.o_proj.weight", [hiddenSize, qWidth])
            if attentionBias {
                add("self_attn.q_proj.bias", [qWidth])
                add("self_attn.k_proj.bias", [kvWidth])
                add("self_attn.v_proj.bias", [kvWidth])
            }
            if outputProjectionBias { add("self_attn.o_proj.bias", [hiddenSize]) }
            add("post_attention_layernorm.weight", [hiddenSize])
            add("mlp.gate_proj.weight", [intermediateSize, hiddenSize])
            add("mlp.up_proj.weight", [intermediateSize, hiddenSize])
            add("mlp.down_proj.weight", [hiddenSize, intermediateSize])
            if mlpBias {
                add("mlp.gate_proj.bias", [intermediateSize])
                add("mlp.up_proj.bias", [intermediateSize])
                add("mlp.down_proj.bias", [hiddenSize])
            }
        }
        tensors.append(ExpectedTensor(name: "model.norm.weight", shape: [hiddenSize], required: true))
        tensors.append(ExpectedTensor(name: "lm_head.weight", shape: [vocabSize, hiddenSize], required: !tieWordEmbeddings))
        return tensors
    }

    /// Buffers that some exporters save but that carry no weights (RoPE's `inv_freq`); skipped, not unexpected.
    public static func isIgnoredBuffer(_ name: String) -> Bool {
        name.hasSuffix(".rotary_emb.inv_freq")
    }
}

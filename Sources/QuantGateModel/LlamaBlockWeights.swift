/// One decoder block's weights in f32, row-major `[out, in]` as the checkpoint stores them.
public struct LlamaBlockWeights: Sendable {
    public var inputNorm: [Float]          // [hidden]
    public var q: [Float], k: [Float], v: [Float], o: [Float]
    public var qBias: [Float]?, kBias: [Float]?, vBias: [Float]?, oBias: [Float]?
    public var postAttentionNorm: [Float]  // [hidden]
    public var gate: [Float], up: [Float], down: [Float]
    public var gateBias: [Float]?, upBias: [Float]?, downBias: [Float]?
    /// How the runtime rounds each projection's input (``WeightSource/inputQuantization(forWeight:)``).
    public var inputQuantization: BlockInputQuantization

    /// Loads block `layer` from `source`, checking every shape against `configuration`.
    /// - Throws: ``ModelError/invalidField(file:field:reason:)`` naming the tensor on a shape mismatch,
    ///   or the source's error for a missing tensor.
    public init(layer: Int, configuration c: LlamaConfiguration, source: any WeightSource) throws {
        let prefix = "model.layers.\(layer)."
        let expected = Dictionary(c.expectedTensors.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        func load(_ name: String) throws -> [Float] {
            let (shape, values) = try source.weight(prefix + name)
            if let want = expected[prefix + name], want != shape {
                throw ModelError.invalidField(
                    file: "weights", field: prefix + name, reason: "has shape \(shape), config.json implies \(want)")
            }
            return values
        }
        func optional(_ name: String, _ present: Bool) throws -> [Float]? { present ? try load(name) : nil }
        inputNorm = try load("input_layernorm.weight")
        q = try load("self_attn.q_proj.weight")
        k = try load("self_attn.k_proj.weight")
        v = try load("self_attn.v_proj.weight")
        o = try load("self_attn.o_proj.weight")
        qBias = try optional("self_attn.q_proj.bias", c.attentionBias)
        kBias = try optional("self_attn.k_proj.bias", c.attentionBias)
        vBias = try optional("self_attn.v_proj.bias", c.attentionBias)
        oBias = try optional("self_attn.o_proj.bias", c.outputProjectionBias)
        postAttentionNorm = try load("post_attention_layernorm.weight")
        gate = try load("mlp.gate_proj.weight")
        up = try load("mlp.up_proj.weight")
        down = try load("mlp.down_proj.weight")
        gateBias = try optional("mlp.gate_proj.bias", c.mlpBias)
        upBias = try optional("mlp.up_proj.bias", c.mlpBias)
        downBias = try optional("mlp.down_proj.bias", c.mlpBias)
        func rounding(_ name: String) -> InputQuantization? { source.inputQuantization(forWeight: prefix + name + ".weight") }
        inputQuantization = BlockInputQuantization(
            q: rounding("self_attn.q_proj"), k: rounding("self_attn.k_proj"), v: rounding("self_attn.v_proj"),
            o: rounding("self_attn.o_proj"), gate: rounding("mlp.gate_proj"), up: rounding("mlp.up_proj"), down: rounding("mlp.down_proj"))
    }
}

/// The input rounding of each of a block's projections (nil: f32 inputs).
public struct BlockInputQuantization: Sendable, Equatable {
    public var q, k, v, o, gate, up, down: InputQuantization?

    public init(q: InputQuantization? = nil, k: InputQuantization? = nil, v: InputQuantization? = nil, o: InputQuantization? = nil,
                gate: InputQuantization? = nil, up: InputQuantization? = nil, down: InputQuantization? = nil) {
        (self.q, self.k, self.v, self.o, self.gate, self.up, self.down) = (q, k, v, o, gate, up, down)
    }
}

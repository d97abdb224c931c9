/// Hugging Face ⇄ GGUF tensor names for the Llama family, as llama.cpp's converter maps them.
public enum GGUFTensorNames {
    /// Per-block suffixes: Hugging Face stem after `model.layers.N.` → GGUF stem after `blk.N.`.
    static let blockStems: [(hf: String, gguf: String)] = [
        ("input_layernorm", "attn_norm"),
        ("self_attn.q_proj", "attn_q"),
        ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"),
        ("post_attention_layernorm", "ffn_norm"),
        ("mlp.gate_proj", "ffn_gate"),
        ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"),
    ]
    static let globals: [(hf: String, gguf: String)] = [
        ("model.embed_tokens", "token_embd"),
        ("model.norm", "output_norm"),
        ("lm_head", "output"),
    ]

    /// The GGUF name of a checkpoint tensor (`model.layers.3.mlp.down_proj.weight` → `blk.3.ffn_down.weight`),
    /// or nil for a tensor llama.cpp has no place for (e.g. `rotary_emb.inv_freq`).
    public static func gguf(_ hf: String) -> String? {
        let (stem, suffix) = split(hf)
        guard let suffix else { return nil }
        if let global = globals.first(where: { $0.hf == stem }) { return "\(global.gguf).\(suffix)" }
        let parts = stem.split(separator: ".", maxSplits: 3).map(String.init)
        guard parts.count == 4, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]),
              let block = blockStems.first(where: { $0.hf == parts[3] }) else { return nil }
        return "blk.\(layer).\(block.gguf).\(suffix)"
    }

    /// The checkpoint name of a GGUF tensor, or nil for one without a counterpart.
    public static func huggingFace(_ gguf: String) -> String? {
        let (stem, suffix) = split(gguf)
        guard let suffix else { return nil }
        if let global = globals.first(where: { $0.gguf == stem }) { return "\(global.hf).\(suffix)" }
        let parts = stem.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]),
              let block = blockStems.first(where: { $0.gguf == parts[2] }) else { return nil }
        return "model.layers.\(layer).\(block.hf).\(suffix)"
    }

    private static func split(_ name: String) -> (String, String?) {
        for suffix in ["weight", "bias"] where name.hasSuffix("." + suffix) {
            return (String(name.dropLast(suffix.count + 1)), suffix)
        }
        return (name, nil)
    }
}

/// The row order llama.cpp's `llama` architecture expects for q and k: its RoPE rotates adjacent
/// pairs (x₀,x₁), (x₂,x₃)…, while Hugging Face's rotates halves (xᵢ, x_{i+d/2}). The converter
/// reorders each head's rows so that row `i` of the first half and row `i` of the second half become
/// neighbours: new[h·d + 2i + s] = old[h·d + s·d/2 + i] for s ∈ {0, 1}, i < d/2.
public enum RotaryRowOrder {
    /// Interleaves the halves of every head (Hugging Face → GGUF `llama`).
    public static func interleave(_ values: [Float], heads: Int, columns: Int) -> [Float] {
        reorder(values, heads: heads, columns: columns, toInterleaved: true)
    }

    /// The inverse (GGUF `llama` → Hugging Face).
    public static func deinterleave(_ values: [Float], heads: Int, columns: Int) -> [Float] {
        reorder(values, heads: heads, columns: columns, toInterleaved: false)
    }

    private static func reorder(_ values: [Float], heads: Int, columns: Int, toInterleaved: Bool) -> [Float] {
        let rows = values.count / columns
        precondition(rows % (2 * heads) == 0, "\(rows) rows do not split into \(heads) heads of pairs")
        let d = rows / heads
        var result = [Float](repeating: 0, count: values.count)
        for h in 0..<heads {
            for s in 0..<2 {
                for i in 0..<(d / 2) {
                    let halves = h * d + s * d / 2 + i, pairs = h * d + 2 * i + s
                    let (from, to) = toInterleaved ? (halves, pairs) : (pairs, halves)
                    result.replaceSubrange((to * columns)..<((to + 1) * columns), with: values[(from * columns)..<((from + 1) * columns)])
                }
            }
        }
        return result
    }
}

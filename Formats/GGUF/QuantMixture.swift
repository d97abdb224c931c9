// Which ggml type each tensor of a dense Llama-family model gets in a llama.cpp "mixture" file type.
//
// These are the rules of llama.cpp's `llama-quantize` (src/llama-quant.cpp: `tensor_allows_quantization`,
// `llama_tensor_get_type`, `llama_tensor_get_type_impl`, `tensor_type_fallback`, `llama_ftype_get_default_type`,
// `init_quantize_state_counters`, `tensor_requires_imatrix`), restated for the case QuantGate writes: a dense
// (no experts) `llama` / `qwen2` architecture model, no `--pure`, no `--tensor-type`/`--output-tensor-type`/
// `--token-embedding-type` overrides, output tensor quantized (no `--leave-output-tensor`), no layer pruning.
// The version followed is the llama.cpp vendored by llama-cpp-python 0.3.36 (src/llama-quant.cpp lines 287-470
// for eligibility and the shape fallback, 490-511 for output/embedding, 567-691 for attn_v / ffn_down / attn_output,
// 856-925 for the imatrix requirement and default types, 927-940 for the counters).
//
// Checked against `llama-quantize --dry-run` built from that same source, on synthetic llama GGUFs (12-80 layers;
// GQA 1, 2, 4 and 8; tied and untied embeddings; row lengths that are multiples of 256, of 32 only, and of neither):
// every tensor's type matched for all 14 file types, and also with an imatrix for Q4_0 and the K mixtures.

/// A llama.cpp file type ("mixture"), named as `llama-quantize` names it.
///
/// A mixture is a default tensor type plus per-tensor exceptions; ``QuantMixture`` applies the exceptions.
/// The raw value is llama-quantize's command-line name.
public enum GGUFFileType: String, CaseIterable, Sendable, Codable {
    case q2_K = "Q2_K"
    case q3_K_S = "Q3_K_S"
    case q3_K_M = "Q3_K_M"
    case q3_K_L = "Q3_K_L"
    case q4_K_S = "Q4_K_S"
    case q4_K_M = "Q4_K_M"
    case q5_K_S = "Q5_K_S"
    case q5_K_M = "Q5_K_M"
    case q6_K = "Q6_K"
    case q8_0 = "Q8_0"
    case q4_0 = "Q4_0"
    case f16 = "F16"
    case bf16 = "BF16"
    case f32 = "F32"

    /// Parses a name the way `llama-quantize` does: case-insensitively, accepting its aliases
    /// `Q3_K` (= Q3_K_M), `Q4_K` (= Q4_K_M) and `Q5_K` (= Q5_K_M), and also a decimal `llama_ftype` number.
    public init?(llamaQuantizeName name: String) {
        let upper = name.uppercased()
        switch upper {
        case "Q3_K": self = .q3_K_M; return
        case "Q4_K": self = .q4_K_M; return
        case "Q5_K": self = .q5_K_M; return
        default: break
        }
        if let direct = GGUFFileType(rawValue: upper) {
            self = direct
            return
        }
        if let number = UInt32(name), let byID = GGUFFileType(llamaFileTypeID: number) {
            self = byID
            return
        }
        return nil
    }

    /// The file type whose `general.file_type` value is `id`, if it is one of these.
    public init?(llamaFileTypeID id: UInt32) {
        guard let match = GGUFFileType.allCases.first(where: { $0.llamaFileTypeID == id }) else { return nil }
        self = match
    }

    /// The `llama_ftype` number (`LLAMA_FTYPE_MOSTLY_*` / `LLAMA_FTYPE_ALL_F32` in llama.h) that
    /// `llama-quantize` stores as `general.file_type` (a UINT32 key).
    public var llamaFileTypeID: UInt32 {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q8_0: 7
        case .q2_K: 10
        case .q3_K_S: 11
        case .q3_K_M: 12
        case .q3_K_L: 13
        case .q4_K_S: 14
        case .q4_K_M: 15
        case .q5_K_S: 16
        case .q5_K_M: 17
        case .q6_K: 18
        case .bf16: 32
        }
    }

    /// The type a 2-D weight gets when no rule of the mixture says otherwise (`llama_ftype_get_default_type`).
    public var defaultType: GGMLType {
        switch self {
        case .q2_K: .q2_K
        case .q3_K_S, .q3_K_M, .q3_K_L: .q3_K
        case .q4_K_S, .q4_K_M: .q4_K
        case .q5_K_S, .q5_K_M: .q5_K
        case .q6_K: .q6_K
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .f16: .f16
        case .bf16: .bf16
        case .f32: .f32
        }
    }

    /// Whether the default type is block-quantized. For F16/BF16/F32 none of the per-tensor rules and no
    /// shape fallback apply: every quantizable tensor simply becomes the default type.
    public var isQuantized: Bool { defaultType.isQuantized }

    /// Whether `llama-quantize` refuses to produce this file type without an importance matrix.
    ///
    /// False for every type here. llama.cpp demands an imatrix only for tensors that end up in an IQ1/IQ2/IQ3_XXS
    /// type, and for Q2_K tensors of a **Q2_K_S** file (not modelled here); plain Q2_K does not require one, and
    /// llama.cpp prints no warning for it either. output.weight and token_embd.weight never require one.
    public var requiresImatrix: Bool { false }
}

/// llama.cpp's per-tensor type choice for one model and one ``GGUFFileType``.
///
/// ## The rules (dense model, no overrides)
///
/// A tensor is *quantizable* (see ``allowsQuantization(tensor:shape:)``) when it has at least two non-trivial
/// dimensions, its name ends in `weight`, and it is not a norm or one of a few excluded kinds. A tensor that is not
/// quantizable keeps the type it had in the source file (the converter writes 1-D tensors and norms as F32).
///
/// For F16, BF16 and F32 every quantizable tensor becomes that type. Otherwise the default type is refined:
///
/// - **output.weight**, and **token_embd.weight when there is no output.weight** (tied embeddings): Q8_0 if the row
///   length is not a multiple of the *default* type's block size, otherwise Q6_K, except that a Q8_0 file keeps
///   Q8_0. (So even Q4_0 files get a Q6_K output.)
/// - **token_embd.weight with a separate output.weight**: the default type.
/// - **attn_v.weight** (`i` = its position among the attn_v tensors = the layer index, `n` = their count = the
///   layer count):
///   - Q2_K: Q4_K if `n_gqa >= 4`, else Q3_K.
///   - Q3_K_M: Q5_K for `i < 2`, else Q4_K.
///   - Q3_K_L: Q5_K.
///   - Q4_K_M, Q5_K_M: Q6_K where ``usesMoreBits(layer:of:)``.
///   - Q4_K_S: Q5_K for `i < 4`.
///   - then, for a model llama.cpp classes as 70B, a Q3_K or Q4_K result becomes Q5_K.
/// - **ffn_down.weight** (`i` = layer index, `n` = layer count):
///   - Q2_K: Q3_K.
///   - Q3_K_M: Q5_K for `i < n/16`, else Q4_K (the Q3_K branch of that rule is for Falcon only).
///   - Q3_K_L: Q5_K.
///   - Q4_K_M, Q5_K_M: Q6_K where ``usesMoreBits(layer:of:)``.
///   - Q4_K_S: Q5_K for `i < n/8`.
///   - Q4_0 **with an imatrix**: Q4_1 for `i < n/8`.
/// - **attn_output.weight**: Q2_K → Q3_K, Q3_K_M → Q4_K, Q3_K_L → Q5_K.
/// - attn_q, attn_k, ffn_gate, ffn_up: the default type. Q3_K_S, Q5_K_S, Q6_K and Q8_0 have no exceptions besides
///   the output rule.
/// - Finally the **shape fallback** (``fallbackType(for:rowLength:)``): when the row length `ne[0]` is not a
///   multiple of the chosen type's block size, Q2_K/Q3_K → Q4_0, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and a
///   32-block type stays; if the result still does not divide `ne[0]`, F16.
///
/// ## Stateless layer counters
///
/// llama.cpp keeps running counters (`i_attention_wv`, `i_ffn_down`) that it increments each time it types an
/// attn_v or ffn_down tensor, visiting tensors in the loader's `weights_map` order. That map is sorted by the
/// number after `blk.` and then by name (`weight_name_comparer`, src/llama-model-loader.h), and for dense models the
/// ffn_down rule uses the counter directly (the name is parsed only when `n_expert > 1`). In a dense Llama every
/// block `blk.0 … blk.(L-1)` holds exactly one `attn_v.weight` and one `ffn_down.weight`, so each counter equals the
/// block number in the tensor's name, `n_attention_wv` (the count of attn_v tensors) equals L, and `n_ffn_down`
/// is the hparam `block_count` = L. This type therefore reads the layer from the name, which gives the same answer
/// in any visiting order. (It would not hold for a model whose blocks do not each hold exactly one such tensor.)
public struct QuantMixture: Sendable, Equatable {
    /// Architectures whose llama.cpp size classification is modelled (only the "70B" class matters here).
    public enum Architecture: String, Sendable, Codable {
        /// `llama` (also what the converter uses for Mistral dense models): 70B when 80 layers and GQA.
        case llama
        /// `qwen2`: 70B whenever there are 80 layers.
        case qwen2
    }

    public let fileType: GGUFFileType
    /// `block_count`.
    public let layerCount: Int
    /// `attention.head_count`.
    public let headCount: Int
    /// `attention.head_count_kv`.
    public let kvHeadCount: Int
    /// Whether the file has its own `output.weight` (untied embeddings). Without one, token_embd.weight is typed
    /// like the output tensor, because llama.cpp will use it as the output projection too.
    public let hasOutputTensor: Bool
    /// Whether an importance matrix is supplied to the quantizer (changes only Q4_0's ffn_down here).
    public let hasImatrix: Bool
    public let architecture: Architecture

    public init(fileType: GGUFFileType, layerCount: Int, headCount: Int, kvHeadCount: Int, hasOutputTensor: Bool,
                hasImatrix: Bool = false, architecture: Architecture = .llama) {
        self.fileType = fileType
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.hasOutputTensor = hasOutputTensor
        self.hasImatrix = hasImatrix
        self.architecture = architecture
    }

    /// `n_gqa`: query heads per KV head, by integer division; 0 when there are no KV heads (`llama_hparams::n_gqa`).
    public var gqaFactor: Int { kvHeadCount == 0 ? 0 : headCount / kvHeadCount }

    /// Whether llama.cpp classes the model as `LLM_TYPE_70B`, which bumps attn_v from Q3_K/Q4_K to Q5_K.
    /// `llama`: 80 layers and fewer KV heads than heads (with equal counts it is "65B").
    /// `qwen2`: 80 layers.
    public var isSizeClass70B: Bool {
        switch architecture {
        case .llama: layerCount == 80 && headCount != kvHeadCount
        case .qwen2: layerCount == 80
        }
    }

    /// llama.cpp's `use_more_bits`: the first eighth of the layers, the last eighth, and every third layer in
    /// between (integer arithmetic). For 32 layers: 0–3, 6, 9, …, 27, 28–31.
    public static func usesMoreBits(layer: Int, of layers: Int) -> Bool {
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
    }

    /// The role llama.cpp's mixture rules see in a tensor name (`tensor_get_category`). Matching is by substring,
    /// tested in this order; `output.weight` and `token_embd.weight` must match exactly.
    public enum TensorRole: Sendable, Equatable {
        case tokenEmbedding, output, attentionQKV, attentionKVB, attentionV, attentionK, attentionQ
        case attentionOutput, ffnUp, ffnGate, ffnDown, other
    }

    public static func role(of name: String) -> TensorRole {
        if name == "output.weight" { return .output }
        if name == "token_embd.weight" || name == "per_layer_token_embd.weight" { return .tokenEmbedding }
        if name.contains("attn_qkv.weight") { return .attentionQKV }
        if name.contains("attn_kv_b.weight") { return .attentionKVB }
        if name.contains("attn_v.weight") { return .attentionV }
        if name.contains("attn_k.weight") { return .attentionK }
        if name.contains("attn_q.weight") { return .attentionQ }
        if name.contains("attn_output.weight") { return .attentionOutput }
        if name.contains("ffn_up") { return .ffnUp }
        if name.contains("ffn_gate") { return .ffnGate }
        if name.contains("ffn_down") { return .ffnDown }
        return .other
    }

    /// The block number N of a `blk.N.…` name, or nil when the name has no such prefix.
    public static func layerIndex(of name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        let rest = name.dropFirst(4)
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, rest.dropFirst(digits.count).first == "." else { return nil }
        return Int(digits)
    }

    /// ggml's `ggml_n_dims`: the index of the last dimension larger than 1, plus one (at least 1). A shape
    /// `[4096, 1]` is one-dimensional for ggml.
    public static func ggmlDimensionCount(_ shape: [Int]) -> Int {
        var index = min(shape.count, 4) - 1
        while index >= 1 {
            if shape[index] > 1 { return index + 1 }
            index -= 1
        }
        return 1
    }

    /// Name fragments llama.cpp never quantizes (architecture-independent part of `tensor_allows_quantization`).
    private static let excludedFragments: [String] = [
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
        "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
        "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
        ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger",
        "a.rvq.codebook", "mm.a.code_embd",
    ]

    /// Whether llama-quantize may change this tensor's type at all. False for tensors with fewer than two
    /// non-trivial dimensions (norms, biases, `rope_freqs.weight`), names not ending in `weight`, any
    /// `*_norm.weight`, `position_embd.weight`, `token_types.weight`, MoE router weights, and a list of small
    /// special tensors of other architectures. Such tensors are copied with their source type.
    public static func allowsQuantization(tensor name: String, shape: [Int]) -> Bool {
        guard ggmlDimensionCount(shape) >= 2, name.hasSuffix("weight") else { return false }
        if name == "position_embd.weight" || name == "token_types.weight" { return false }
        return !excludedFragments.contains(where: { name.contains($0) })
    }

    /// The type of `ggufName` with ggml shape `shape` (`ne`, `shape[0]` = row length), assuming a tensor that may
    /// not be quantized is stored as F32 in the source (which is what the converter does for 1-D tensors and norms).
    public func type(forTensor ggufName: String, shape: [Int]) -> GGMLType {
        type(forTensor: ggufName, shape: shape, sourceType: .f32)
    }

    /// The type of `ggufName`; `sourceType` is returned unchanged for tensors llama.cpp does not quantize.
    public func type(forTensor ggufName: String, shape: [Int], sourceType: GGMLType) -> GGMLType {
        guard Self.allowsQuantization(tensor: ggufName, shape: shape) else { return sourceType }
        let base = fileType.defaultType
        guard base.isQuantized else { return base }
        let rowLength = shape.first ?? 1
        let chosen = mixtureType(role: Self.role(of: ggufName), name: ggufName, rowLength: rowLength, base: base)
        return Self.fallbackType(for: chosen, rowLength: rowLength)
    }

    /// The per-tensor exceptions of the mixture, before the shape fallback (`llama_tensor_get_type_impl`).
    private func mixtureType(role: TensorRole, name: String, rowLength: Int, base: GGMLType) -> GGMLType {
        let layers = layerCount
        // Counters as llama.cpp would have them at this tensor; see the type's documentation.
        let layer = Self.layerIndex(of: name) ?? 0

        if role == .output || (role == .tokenEmbedding && !hasOutputTensor) {
            if rowLength % base.blockValues != 0 { return .q8_0 }
            return base == .q8_0 ? .q8_0 : .q6_K
        }

        switch role {
        case .attentionV, .attentionQKV, .attentionKVB:
            var chosen = base
            switch fileType {
            case .q2_K: chosen = gqaFactor >= 4 ? .q4_K : .q3_K
            case .q3_K_M: chosen = layer < 2 ? .q5_K : .q4_K
            case .q3_K_L: chosen = .q5_K
            case .q4_K_M, .q5_K_M: if Self.usesMoreBits(layer: layer, of: layers) { chosen = .q6_K }
            case .q4_K_S: if layer < 4 { chosen = .q5_K }
            default: break
            }
            if isSizeClass70B && (chosen == .q3_K || chosen == .q4_K) { chosen = .q5_K }
            return chosen

        case .ffnDown:
            switch fileType {
            case .q2_K: return .q3_K
            case .q3_K_M: return layer < layers / 16 ? .q5_K : .q4_K
            case .q3_K_L: return .q5_K
            case .q4_K_M, .q5_K_M: return Self.usesMoreBits(layer: layer, of: layers) ? .q6_K : base
            case .q4_K_S: return layer < layers / 8 ? .q5_K : base
            case .q4_0: return hasImatrix && layer < layers / 8 ? .q4_1 : base
            default: return base
            }

        case .attentionOutput:
            switch fileType {
            case .q2_K: return .q3_K
            case .q3_K_M: return .q4_K
            case .q3_K_L: return .q5_K
            default: return base
            }

        default:
            return base
        }
    }

    /// llama.cpp's `tensor_type_fallback`: the type actually used when `rowLength` (ne[0]) is not a multiple of
    /// `type`'s block size. 256-value K types fall back to a 32-value type (Q2_K, Q3_K → Q4_0; Q4_K → Q5_0;
    /// Q5_K → Q5_1; Q6_K → Q8_0); a 32-value type keeps its type; and if the result still does not divide the row,
    /// F16. Unquantized types are returned unchanged.
    public static func fallbackType(for type: GGMLType, rowLength: Int) -> GGMLType {
        guard type.isQuantized, rowLength % type.blockValues != 0 else { return type }
        let replacement: GGMLType
        switch type {
        case .q2_K, .q3_K: replacement = .q4_0
        case .q4_K: replacement = .q5_0
        case .q5_K: replacement = .q5_1
        case .q6_K: replacement = .q8_0
        default: replacement = type
        }
        return rowLength % replacement.blockValues == 0 ? replacement : .f16
    }

    /// Whether llama-quantize would stop for lack of an imatrix on this tensor (`tensor_requires_imatrix`).
    /// Always false for the file types modelled here (see ``GGUFFileType/requiresImatrix``).
    public func requiresImatrix(forTensor ggufName: String, shape: [Int]) -> Bool {
        fileType.requiresImatrix
    }
}

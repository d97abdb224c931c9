import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateTensors
import QuantGateTokenizer

/// A GGUF file seen as a model the runtime can run: its configuration rebuilt from the metadata,
/// its weights dequantized from the file (with llama's q/k row order undone), and its tokenizer
/// rebuilt from `tokenizer.ggml.*`. The evaluator judges exactly what is on disk.
public struct GGUFModel: Sendable {
    public let file: GGUFFile
    public let configuration: LlamaConfiguration
    public let weights: GGUFWeightSource
    public let tokenizer: Tokenizer

    /// Opens `path`.
    /// - Throws: ``GGUFError`` for a malformed file or an architecture, rope scaling or tokenizer
    ///   this runtime does not run; ``ModelError`` for inconsistent hyper-parameters.
    public init(path: String) throws {
        file = try GGUFFile(path: path)
        let architecture = try Self.string(file, "general.architecture")
        guard architecture == "llama" || architecture == "qwen2" else {
            throw GGUFError.unsupported(file: path, field: "general.architecture", reason: "'\(architecture)' (runs llama and qwen2)")
        }
        configuration = try Self.configuration(file, architecture: architecture)
        if let expected = RopeFrequencyFactors.llama3(configuration),
           try file.floats(named: "rope_freqs.weight").values != expected {
            throw GGUFError.malformed(file: path, field: "rope_freqs.weight",
                                      reason: "does not match the llama3 parameters recorded in quantgate.rope_scaling.llama3.*")
        }
        weights = GGUFWeightSource(file: file, configuration: configuration, interleavedRotary: architecture == "llama")
        tokenizer = try GGUFTokenizerReader.tokenizer(from: file)
    }

    static func string(_ file: GGUFFile, _ key: String) throws -> String {
        guard let value = file[key]?.string else {
            throw GGUFError.malformed(file: file.path, field: key, reason: "is missing or not a string")
        }
        return value
    }

    static func number(_ file: GGUFFile, _ key: String) throws -> Double {
        guard let value = file[key]?.number else {
            throw GGUFError.malformed(file: file.path, field: key, reason: "is missing or not a number")
        }
        return value
    }

    /// A `config.json` equivalent of the metadata, parsed by the same validation as a checkpoint's.
    private static func configuration(_ file: GGUFFile, architecture a: String) throws -> LlamaConfiguration {
        guard let embeddings = file.tensor(named: "token_embd.weight"), embeddings.shape.count == 2 else {
            throw GGUFError.malformed(file: file.path, field: "token_embd.weight", reason: "is missing or not 2-D")
        }
        let heads = Int(try number(file, "\(a).attention.head_count"))
        var config: [String: JSONValue] = [
            "model_type": .string(a),
            "hidden_size": .number(try number(file, "\(a).embedding_length")),
            "num_hidden_layers": .number(try number(file, "\(a).block_count")),
            "num_attention_heads": .number(Double(heads)),
            "num_key_value_heads": .number(file["\(a).attention.head_count_kv"]?.number ?? Double(heads)),
            "intermediate_size": .number(try number(file, "\(a).feed_forward_length")),
            "vocab_size": .number(Double(embeddings.shape[1])),
            "rms_norm_eps": .number(try number(file, "\(a).attention.layer_norm_rms_epsilon")),
            "rope_theta": .number(file["\(a).rope.freq_base"]?.number ?? 10000),
            "max_position_embeddings": .number(try number(file, "\(a).context_length")),
            "tie_word_embeddings": .bool(file.tensor(named: "output.weight") == nil),
        ]
        if let headDim = file["\(a).attention.key_length"]?.number ?? file["\(a).rope.dimension_count"]?.number {
            config["head_dim"] = .number(headDim)
        }
        if a == "llama" {
            config["attention_bias"] = .bool(file.tensor(named: "blk.0.attn_q.bias") != nil)
            config["mlp_bias"] = .bool(file.tensor(named: "blk.0.ffn_up.bias") != nil)
        }
        switch file["\(a).rope.scaling.type"]?.string {
        case nil, "none":
            break
        case "linear":
            config["rope_scaling"] = .object(["rope_type": .string("linear"), "factor": .number(try number(file, "\(a).rope.scaling.factor"))])
        case let other?:
            throw GGUFError.unsupported(file: file.path, field: "\(a).rope.scaling.type", reason: "'\(other)'")
        }
        if file.tensor(named: "rope_freqs.weight") != nil {
            // The runtime computes llama3 scaling from its parameters, which QuantGate's files record.
            let key = "quantgate.rope_scaling.llama3."
            guard let factor = file[key + "factor"]?.number, let low = file[key + "low_freq_factor"]?.number,
                  let high = file[key + "high_freq_factor"]?.number,
                  let original = file[key + "original_max_position_embeddings"]?.number else {
                throw GGUFError.unsupported(file: file.path, field: "rope_freqs.weight",
                                            reason: "per-frequency RoPE factors without the llama3 parameters behind them")
            }
            config["rope_scaling"] = .object([
                "rope_type": .string("llama3"), "factor": .number(factor), "low_freq_factor": .number(low),
                "high_freq_factor": .number(high), "original_max_position_embeddings": .number(original),
            ])
        }
        let json = try JSONEncoder().encode(JSONValue.object(config))
        return try LlamaConfiguration(json: json, file: "\(file.path) (metadata)")
    }
}

/// Weights of a GGUF file by checkpoint tensor name, dequantized to f32 in the checkpoint's layout.
public struct GGUFWeightSource: WeightSource {
    public let file: GGUFFile
    let configuration: LlamaConfiguration
    /// Whether q and k rows are in llama.cpp's interleaved RoPE order (architecture `llama`).
    let interleavedRotary: Bool

    public func weight(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let ggufName = GGUFTensorNames.gguf(name) else { throw GGUFError.tensorNotFound(file: file.path, name: name) }
        let (info, values) = try file.floats(named: ggufName)
        let shape = Array(info.shape.reversed())
        guard interleavedRotary else { return (shape, values) }
        let columns = shape.count == 2 ? shape[1] : 1
        if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") {
            return (shape, RotaryRowOrder.deinterleave(values, heads: configuration.headCount, columns: columns))
        }
        if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") {
            return (shape, RotaryRowOrder.deinterleave(values, heads: configuration.kvHeadCount, columns: columns))
        }
        return (shape, values)
    }

    /// llama.cpp's CPU backend rounds each product's input to the weight type's `vec_dot_type`
    /// (ggml-cpu's type traits): F16 → f16, BF16 → bf16, Q4_0/Q5_0/Q8_0 → Q8_0 and Q4_1/Q5_1 → Q8_1
    /// (the same values as Q8_0), the k-quants → Q8_K; F32 inputs stay f32.
    public func inputQuantization(forWeight name: String) -> InputQuantization? {
        guard let ggufName = GGUFTensorNames.gguf(name), let info = file.tensor(named: ggufName) else { return nil }
        switch info.type {
        case .f16: return .f16
        case .bf16: return .bf16
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return .q8_0
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: return .q8K
        default: return nil
        }
    }
}

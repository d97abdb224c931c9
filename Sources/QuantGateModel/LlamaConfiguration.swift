import Foundation
import QuantGateOutput

/// The architectures QuantGate runs: decoder-only Llama-family transformers.
public enum ModelFamily: String, CaseIterable, Sendable, Codable {
    case llama
    case mistral
    case qwen2
}

/// RoPE frequency scaling, as `rope_scaling` (transformers < 5) or `rope_parameters`
/// (transformers ≥ 5) describes it.
public enum RopeScaling: Equatable, Sendable {
    /// Plain RoPE.
    case none
    /// Position interpolation: every frequency divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.1's piecewise scaling of low frequencies.
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContextLength: Int)
}

/// A validated `config.json` for the Llama family (`llama`, `mistral`, `qwen2`).
///
/// Checkpoint keys → Swift names: `hidden_size` → ``hiddenSize``, `num_hidden_layers` → ``layerCount``,
/// `num_attention_heads` → ``headCount``, `num_key_value_heads` → ``kvHeadCount`` (default: ``headCount``),
/// `head_dim` → ``headDim`` (default: hidden / heads), `intermediate_size` → ``intermediateSize``,
/// `vocab_size` → ``vocabSize``, `rms_norm_eps` → ``rmsNormEps``, `rope_theta` or
/// `rope_parameters.rope_theta` → ``ropeTheta``, `rope_scaling` / `rope_parameters` → ``ropeScaling``,
/// `tie_word_embeddings` → ``tieWordEmbeddings``, `attention_bias` → ``attentionBias``.
public struct LlamaConfiguration: Equatable, Sendable {
    public var family: ModelFamily
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    /// Biases on q/k/v (all three families) and on o (llama with `attention_bias` only).
    public var attentionBias: Bool
    /// Bias on o_proj: llama's `attention_bias` covers it; qwen2's q/k/v biases do not.
    public var outputProjectionBias: Bool
    /// Biases on gate/up/down (llama's `mlp_bias`).
    public var mlpBias: Bool
    /// Attention span of sliding-window attention (mistral's `sliding_window`; qwen2's when
    /// `use_sliding_window` is true), or nil for full causal attention. The runtime attends fully, so it
    /// refuses windows longer than this rather than compute something else.
    public var slidingWindow: Int?
    /// The `quant_method` of a `quantization_config` the file declares (`"quantized"` when it declares one
    /// without a method), or nil for a full-precision checkpoint.
    public var declaredQuantization: String?

    /// Reads and validates `config.json` at `path`.
    /// - Throws: ``ModelError`` naming the file and field.
    public init(contentsOf path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelError.malformedConfig(file: path, reason: "cannot be read: \(OutputError.plainReason(error))")
        }
        try self.init(json: data, file: path)
    }

    /// Parses and validates a `config.json` held in memory; `file` names it in errors.
    public init(json data: Data, file: String) throws {
        let config = try ConfigReader(file: file, data: data)
        guard let modelType = try config.string("model_type") else {
            throw ModelError.missingField(file: file, field: "model_type")
        }
        guard let family = ModelFamily(rawValue: modelType) else {
            throw ModelError.unsupportedModelType(
                file: file, modelType: modelType, supported: ModelFamily.allCases.map(\.rawValue))
        }
        self.family = family
        hiddenSize = try config.positiveInt("hidden_size")
        layerCount = try config.positiveInt("num_hidden_layers", maximum: 100_000)
        headCount = try config.positiveInt("num_attention_heads")
        kvHeadCount = try config.positiveInt("num_key_value_heads", fallback: headCount)
        intermediateSize = try config.positiveInt("intermediate_size")
        vocabSize = try config.positiveInt("vocab_size")
        try config.checkSpecialTokenIDs(vocabularySize: vocabSize)
        // Defaults as transformers' config classes have them.
        let defaultContext = [ModelFamily.llama: 2048, .mistral: 131_072, .qwen2: 32_768][family] ?? 2048
        maxPositionEmbeddings = try config.positiveInt("max_position_embeddings", fallback: defaultContext)
        rmsNormEps = try config.positiveDouble("rms_norm_eps", fallback: 1e-6)
        tieWordEmbeddings = try config.bool("tie_word_embeddings", fallback: false)
        mlpBias = family == .llama ? try config.bool("mlp_bias", fallback: false) : false
        switch family {
        case .mistral:
            // transformers' MistralConfig defaults sliding_window to 4096; an explicit null turns it off.
            slidingWindow = config.isExplicitNull("sliding_window") ? nil : try config.positiveInt("sliding_window", fallback: 4096)
        case .qwen2 where try config.bool("use_sliding_window", fallback: false) && config.has("sliding_window"):
            slidingWindow = try config.positiveInt("sliding_window")
        default:
            slidingWindow = nil
        }
        if let quantization = config.value("quantization_config") {
            if case .string(let method)? = quantization["quant_method"] { declaredQuantization = method } else { declaredQuantization = "quantized" }
        }
        switch family {
        case .llama:
            attentionBias = try config.bool("attention_bias", fallback: false)
            outputProjectionBias = attentionBias
        case .mistral:
            attentionBias = false
            outputProjectionBias = false
        case .qwen2:
            attentionBias = true
            outputProjectionBias = false
        }
        guard headCount % kvHeadCount == 0 else {
            throw ModelError.invalidField(
                file: file, field: "num_key_value_heads",
                reason: "(\(kvHeadCount)) must divide num_attention_heads (\(headCount))")
        }
        if config.has("head_dim") {
            headDim = try config.positiveInt("head_dim")
        } else {
            guard hiddenSize % headCount == 0 else {
                throw ModelError.invalidField(
                    file: file, field: "hidden_size",
                    reason: "(\(hiddenSize)) is not a multiple of num_attention_heads (\(headCount)) and head_dim is absent")
            }
            headDim = hiddenSize / headCount
        }
        guard headDim % 2 == 0 else {
            throw ModelError.invalidField(file: file, field: "head_dim", reason: "(\(headDim)) must be even for RoPE")
        }
        if let activation = try config.string("hidden_act"), activation != "silu" {
            throw ModelError.unsupportedSetting(file: file, field: "hidden_act", value: activation, supported: ["silu"])
        }
        // transformers ≥ 5 moves rope_theta and the scaling into rope_parameters; as its
        // `convert_rope_params_to_dict` does, `rope_scaling` (older files) wins over `rope_parameters`,
        // and a theta inside that section wins over a top-level `rope_theta`.
        let section = Self.ropeSection(config)
        if config.has("\(section).rope_theta") {
            ropeTheta = try config.positiveDouble("\(section).rope_theta")
        } else {
            ropeTheta = try config.positiveDouble("rope_theta", fallback: 10_000)
        }
        ropeScaling = try Self.ropeScaling(config, section: section)
    }

    /// Where the RoPE settings live: `rope_scaling` when present, else `rope_parameters`.
    private static func ropeSection(_ config: ConfigReader) -> String {
        config.has("rope_scaling") ? "rope_scaling" : "rope_parameters"
    }

    private static func ropeScaling(_ config: ConfigReader, section: String) throws -> RopeScaling {
        guard config.has(section) else { return .none }
        let typeField = config.has("\(section).rope_type") ? "\(section).rope_type" : "\(section).type"
        let type = try config.string(typeField) ?? "default"
        switch type {
        case "default":
            return .none
        case "linear":
            return .linear(factor: try config.positiveDouble("\(section).factor"))
        case "llama3":
            return .llama3(
                factor: try config.positiveDouble("\(section).factor"),
                lowFrequencyFactor: try config.positiveDouble("\(section).low_freq_factor"),
                highFrequencyFactor: try config.positiveDouble("\(section).high_freq_factor"),
                originalContextLength: try config.positiveInt("\(section).original_max_position_embeddings"))
        default:
            throw ModelError.unsupportedSetting(
                file: config.file, field: typeField, value: type, supported: ["default", "linear", "llama3"])
        }
    }
}

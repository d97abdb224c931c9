import Foundation
import QuantGateSafetensors

/// A Hugging Face model directory: `config.json` plus safetensors weights (single or sharded).
public struct ModelDirectory: Sendable {
    /// The name of the generation defaults transformers saves beside `config.json`.
    public static let generationConfigFileName = "generation_config.json"

    /// The directory path.
    public let path: String
    /// The validated configuration.
    public let configuration: LlamaConfiguration
    /// The opened, validated weights.
    public let checkpoint: SafetensorsCheckpoint

    /// Opens `path`, reading `config.json` (and checking the special token ids of `generation_config.json`,
    /// when present) and validating every safetensors header.
    /// Does not compare tensors with the config nor read any value; see ``validate(progress:)``.
    /// - Throws: ``ModelError`` or ``SafetensorsError`` naming the file at fault.
    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path)
        let configPath = directory.appendingPathComponent("config.json").path
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw ModelError.missingConfig(directory: path)
        }
        self.path = path
        configuration = try LlamaConfiguration(contentsOf: configPath)
        let generationPath = directory.appendingPathComponent(Self.generationConfigFileName).path
        if let data = FileManager.default.contents(atPath: generationPath) {
            try ConfigReader(file: generationPath, data: data).checkSpecialTokenIDs(vocabularySize: configuration.vocabSize)
        }
        checkpoint = try SafetensorsCheckpoint(path: path)
    }

    /// Compares the tensors with the configuration.
    public func check() -> TensorCheck {
        TensorCheck(configuration: configuration, tensors: checkpoint.tensors)
    }

    /// Refuses what no command may use as a source checkpoint: a checkpoint that is already quantized, tensors that disagree with `config.json` or are
    /// not stored as floats (``check()``), and any NaN or ±Inf value (``FiniteScan``). Reads the weights once,
    /// one chunk at a time; nothing is kept.
    /// - Parameter progress: after each tensor scanned: (done, total, name).
    /// - Throws: ``ModelError`` naming the directory, or the file, tensor and element.
    public func validate(progress: ((Int, Int, String) -> Void)? = nil) throws(ModelError) {
        if let method = configuration.declaredQuantization {
            throw .invalidField(file: URL(fileURLWithPath: path).appendingPathComponent("config.json").path, field: "quantization_config",
                                reason: "declares a quantized checkpoint (quant_method \"\(method)\"); the source must be a full-precision checkpoint")
        }
        try check().validate(directory: path)
        try FiniteScan.check(checkpoint, progress: progress)
    }
}

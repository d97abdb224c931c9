import Foundation
import QuantGateSafetensors

/// A Hugging Face model directory: `config.json` plus safetensors weights (single or sharded).
public struct ModelDirectory: Sendable {
    /// The directory path.
    public let path: String
    /// The validated configuration.
    public let configuration: LlamaConfiguration
    /// The opened, validated weights.
    public let checkpoint: SafetensorsCheckpoint

    /// Opens `path`, reading `config.json` and validating every safetensors header.
    /// Does not compare tensors with the config; see ``check()``.
    /// - Throws: ``ModelError`` or ``SafetensorsError`` naming the file at fault.
    public init(path: String) throws {
        let configPath = URL(fileURLWithPath: path).appendingPathComponent("config.json").path
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw ModelError.missingConfig(directory: path)
        }
        self.path = path
        configuration = try LlamaConfiguration(contentsOf: configPath)
        checkpoint = try SafetensorsCheckpoint(path: path)
    }

    /// Compares the tensors with the configuration.
    public func check() -> TensorCheck {
        TensorCheck(configuration: configuration, tensors: checkpoint.tensors)
    }
}

import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateTokenizer

/// A GPTQ directory seen as the model its loaders run: every quantized Linear's weight dequantized from
/// its codes, scales, zeros and `g_idx` (`scale · (q − zero)`, exact in f32), everything else as stored.
/// Activations stay in float (W4A16), so the evaluator judges exactly the rounding of the weights.
public struct GPTQModel: Sendable {
    public let checkpoint: GPTQCheckpoint
    public let configuration: LlamaConfiguration
    public let weights: GPTQWeightSource
    public let tokenizer: Tokenizer

    /// Opens `directory`.
    /// - Throws: ``QuantizedCheckpointError``, ``ModelError`` or the tokenizer's error, naming the file.
    public init(directory: String) throws {
        checkpoint = try GPTQCheckpoint(directory: directory)
        configuration = try LlamaConfiguration(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent("config.json").path)
        weights = GPTQWeightSource(checkpoint: checkpoint)
        tokenizer = try Tokenizer(directory: directory)
    }
}

/// Weights of a GPTQ checkpoint by tensor name (`X.weight` of a quantized module is dequantized).
public struct GPTQWeightSource: WeightSource {
    public let checkpoint: GPTQCheckpoint

    public func weight(_ name: String) throws -> (shape: [Int], values: [Float]) {
        try checkpoint.floats(name)
    }
}

import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateTokenizer

/// A GPTQ or AWQ directory seen as the model its loaders run: every quantized Linear's weight dequantized
/// from its codes, scales and zeros (`scale · (q − zero)`, exact in f32), everything else (AWQ's scaled
/// norms included) as stored. Activations stay in float (W4A16), so the evaluator judges exactly the
/// weights on disk.
public struct PackedLinearModel: Sendable {
    public let checkpoint: any PackedLinearCheckpoint
    public let configuration: LlamaConfiguration
    public let weights: PackedLinearWeightSource
    public let tokenizer: Tokenizer

    /// Opens `directory` with `open` (``GPTQCheckpoint/init(directory:)`` or ``AWQCheckpoint/init(directory:)``).
    /// - Throws: ``QuantizedCheckpointError``, ``ModelError`` or the tokenizer's error, naming the file.
    public init(directory: String, open: (String) throws -> any PackedLinearCheckpoint) throws {
        checkpoint = try open(directory)
        configuration = try LlamaConfiguration(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent("config.json").path)
        weights = PackedLinearWeightSource(checkpoint: checkpoint)
        tokenizer = try Tokenizer(directory: directory)
    }
}

/// Weights of a packed checkpoint by tensor name (`X.weight` of a quantized module is dequantized).
public struct PackedLinearWeightSource: WeightSource {
    public let checkpoint: any PackedLinearCheckpoint

    public func weight(_ name: String) throws -> (shape: [Int], values: [Float]) {
        try checkpoint.floats(name)
    }
}

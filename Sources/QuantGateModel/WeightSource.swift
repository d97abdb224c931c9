import QuantGateSafetensors

/// Where a model's weights come from, by checkpoint tensor name, as f32 row-major values.
///
/// A source checkpoint provides them by converting the stored dtype; quantized artefacts (later
/// formats) provide them by dequantizing what is on disk, so the evaluator judges the file.
public protocol WeightSource: Sendable {
    /// The values of tensor `name` with their shape.
    /// - Throws: when the tensor is absent or unreadable, naming it.
    func weight(_ name: String) throws -> (shape: [Int], values: [Float])

    /// How the runtime of this source's format rounds the input of the product with weight `name`
    /// (nil: inputs stay f32, as for a source checkpoint).
    func inputQuantization(forWeight name: String) -> InputQuantization?
}

extension WeightSource {
    public func inputQuantization(forWeight name: String) -> InputQuantization? { nil }
}

extension SafetensorsCheckpoint: WeightSource {
    public func weight(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let (tensor, file) = locate(name) else {
            throw SafetensorsError.tensorNotFound(name: name, location: indexPath ?? files.first?.path ?? "checkpoint")
        }
        return (tensor.shape, try file.floats(named: name))
    }
}

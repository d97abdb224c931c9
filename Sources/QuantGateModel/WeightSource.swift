import QuantGateSafetensors

/// Where a model's weights come from, by checkpoint tensor name, as f32 row-major values.
///
/// A source checkpoint provides them by converting the stored dtype; quantized artefacts (later
/// formats) provide them by dequantizing what is on disk, so the evaluator judges the file.
public protocol WeightSource: Sendable {
    /// The values of tensor `name` with their shape.
    /// - Throws: when the tensor is absent or unreadable, naming it.
    func weight(_ name: String) throws -> (shape: [Int], values: [Float])

    /// The shape of tensor `name`. A source checkpoint reads it from the header; the default reads the tensor.
    /// - Throws: when the tensor is absent or unreadable, naming it.
    func shape(of name: String) throws -> [Int]

    /// Rows `rows` (indices along the first dimension, in that order) of tensor `name`, as f32:
    /// `[rows.count, width]` row-major. A source checkpoint converts only those rows; the default reads the
    /// whole tensor and copies them.
    /// - Throws: when the tensor is absent or unreadable, naming it.
    func weightRows(_ name: String, _ rows: [Int]) throws -> [Float]

    /// Whether ``weightRows(_:_:)`` reads only the rows asked for (a source checkpoint); else a streamed model
    /// holds its embeddings and head converted, rather than reading the whole tensor for every band.
    var readsRowsCheaply: Bool { get }

    /// How the runtime of this source's format rounds the input of the product with weight `name`
    /// (nil: inputs stay f32, as for a source checkpoint).
    func inputQuantization(forWeight name: String) -> InputQuantization?
}

extension WeightSource {
    public func inputQuantization(forWeight name: String) -> InputQuantization? { nil }

    public var readsRowsCheaply: Bool { false }

    public func shape(of name: String) throws -> [Int] { try weight(name).shape }

    public func weightRows(_ name: String, _ rows: [Int]) throws -> [Float] {
        let (shape, values) = try weight(name)
        return gatherRows(rows, of: values, width: shape.dropFirst().reduce(1, *))
    }
}

/// Rows `rows` of the row-major `values` (`width` values a row), in that order.
func gatherRows(_ rows: [Int], of values: [Float], width: Int) -> [Float] {
    var result: [Float] = []
    result.reserveCapacity(rows.count * width)
    for r in rows { result += values[(r * width)..<((r + 1) * width)] }
    return result
}

extension SafetensorsCheckpoint: WeightSource {
    public func weight(_ name: String) throws -> (shape: [Int], values: [Float]) {
        let (tensor, file) = try located(name)
        return (tensor.shape, try file.floats(named: name))
    }

    public var readsRowsCheaply: Bool { true }

    public func shape(of name: String) throws -> [Int] { try located(name).tensor.shape }

    public func weightRows(_ name: String, _ rows: [Int]) throws -> [Float] { try located(name).file.floats(named: name, rows: rows) }

    /// ``locate(_:)``, or the error naming the tensor and the checkpoint.
    private func located(_ name: String) throws -> (tensor: TensorInfo, file: SafetensorsFile) {
        guard let found = locate(name) else {
            throw SafetensorsError.tensorNotFound(name: name, location: indexPath ?? files.first?.path ?? "checkpoint")
        }
        return found
    }
}

import QuantGateSafetensors

/// The comparison of a checkpoint's tensors with what its config describes.
public struct TensorCheck: Equatable, Sendable {
    /// A tensor present with the wrong shape.
    public struct Mismatch: Equatable, Sendable {
        public var name: String
        public var expected: [Int]
        public var actual: [Int]
    }

    /// Required tensors the checkpoint lacks.
    public var missing: [ExpectedTensor]
    /// Tensors the config does not account for.
    public var unexpected: [TensorInfo]
    /// Tensors present with the wrong shape.
    public var wrongShape: [Mismatch]
    /// Tensors the config describes stored in an integer or boolean dtype: only float dtypes are weights.
    public var wrongDType: [TensorInfo]
    /// Known weightless buffers that were skipped.
    public var ignored: [String]

    /// True when the checkpoint matches the config exactly, every tensor in a float dtype.
    public var passed: Bool { missing.isEmpty && unexpected.isEmpty && wrongShape.isEmpty && wrongDType.isEmpty }

    /// Compares `tensors` with `configuration.expectedTensors`.
    public init(configuration: LlamaConfiguration, tensors: [TensorInfo]) {
        let expected = configuration.expectedTensors
        let present = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let known = Set(expected.map(\.name))
        missing = expected.filter { $0.required && present[$0.name] == nil }
        wrongShape = expected.compactMap { tensor in
            guard let actual = present[tensor.name], actual.shape != tensor.shape else { return nil }
            return Mismatch(name: tensor.name, expected: tensor.shape, actual: actual.shape)
        }
        wrongDType = expected.compactMap { present[$0.name] }.filter { !$0.dtype.isFloatingPoint }
        ignored = tensors.map(\.name).filter { !known.contains($0) && LlamaConfiguration.isIgnoredBuffer($0) }.sorted()
        unexpected = tensors.filter { !known.contains($0.name) && !LlamaConfiguration.isIgnoredBuffer($0.name) }
            .sorted { $0.name < $1.name }
    }

    /// Throws ``ModelError/tensorsDisagreeWithConfig(directory:missing:unexpected:wrongShape:wrongDType:)`` unless ``passed``.
    public func validate(directory: String) throws(ModelError) {
        guard !passed else { return }
        throw ModelError.tensorsDisagreeWithConfig(
            directory: directory,
            missing: missing.map(\.name),
            unexpected: unexpected.map(\.name),
            wrongShape: wrongShape.map { "\($0.name): expected \($0.expected), found \($0.actual)" },
            wrongDType: wrongDType.map { "\($0.name) is \($0.dtype.rawValue)" })
    }
}

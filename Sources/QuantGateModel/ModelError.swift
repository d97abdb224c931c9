/// What can be wrong with a model directory: its `config.json`, or its tensors against that config.
public enum ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The directory has no `config.json`.
    case missingConfig(directory: String)
    /// `config.json` is not a JSON object.
    case malformedConfig(file: String, reason: String)
    /// A required field is absent.
    case missingField(file: String, field: String)
    /// A field has the wrong type or an impossible value.
    case invalidField(file: String, field: String, reason: String)
    /// `model_type` names an architecture QuantGate does not run.
    case unsupportedModelType(file: String, modelType: String, supported: [String])
    /// A setting QuantGate's runtime does not implement (a rope scaling type, an activation, …).
    case unsupportedSetting(file: String, field: String, value: String, supported: [String])
    /// The checkpoint's tensors do not match what the config describes: absent, unexpected, wrong-shaped,
    /// or stored in a dtype that is not a float (`wrongDType`: "NAME is I8").
    case tensorsDisagreeWithConfig(directory: String, missing: [String], unexpected: [String], wrongShape: [String],
                                   wrongDType: [String])
    /// A stored tensor holds a NaN or ±Inf: `index` is the first such element (flat, row-major).
    case nonFiniteWeight(file: String, tensor: String, index: Int, value: Float)
    /// A token id the model has no embedding for (the tokenizer and `config.json` disagree).
    case tokenOutsideVocabulary(position: Int, token: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case .missingConfig(let directory):
            return "\(directory): no config.json (is this a Hugging Face model directory?)"
        case .malformedConfig(let file, let reason):
            return "\(file): malformed: \(reason)"
        case .missingField(let file, let field):
            return "\(file): missing field '\(field)'"
        case .invalidField(let file, let field, let reason):
            return "\(file): field '\(field)' \(reason)"
        case .unsupportedModelType(let file, let modelType, let supported):
            return "\(file): model_type '\(modelType)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case .unsupportedSetting(let file, let field, let value, let supported):
            return "\(file): \(field) '\(value)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case .tensorsDisagreeWithConfig(let directory, let missing, let unexpected, let wrongShape, let wrongDType):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("\(missing.count) missing (\(Self.sample(missing)))") }
            if !unexpected.isEmpty { parts.append("\(unexpected.count) unexpected (\(Self.sample(unexpected)))") }
            if !wrongShape.isEmpty { parts.append("\(wrongShape.count) wrong-shaped (\(Self.sample(wrongShape)))") }
            if !wrongDType.isEmpty {
                parts.append("\(wrongDType.count) not stored as floats (\(Self.sample(wrongDType)); weights must be a float dtype)")
            }
            return "\(directory): tensors disagree with config.json: " + parts.joined(separator: "; ")
        case .nonFiniteWeight(let file, let tensor, let index, let value):
            return "\(file): tensor \(tensor): element \(index) is \(value); every weight must be finite"
        case .tokenOutsideVocabulary(let position, let token, let vocabularySize):
            return "token id \(token) at position \(position) is outside the model's vocabulary (config.json vocab_size \(vocabularySize)): "
                + "the tokenizer and the model disagree"
        }
    }

    private static func sample(_ names: [String]) -> String {
        names.count <= 3 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + ", …"
    }
}

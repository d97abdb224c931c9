/// Everything that can be wrong with a tokenizer directory. Each case names the file and, where
/// there is one, the JSON field path (`model.merges[12]`, `pre_tokenizer.pretokenizers[0].pattern`).
public enum TokenizerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A required file is not there (`tokenizer.json`, or the directory itself).
    case missingFile(path: String)
    /// The file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not well-formed JSON; `line` and `column` are 1-based, `column` counts bytes.
    case malformedJSON(file: String, line: Int, column: Int, reason: String)
    /// A required field is absent (or `null`).
    case missingField(file: String, field: String)
    /// A field has the wrong JSON type or a value that cannot be used.
    case invalidField(file: String, field: String, reason: String)
    /// A component type (or option) that QuantGate does not implement. `kind` is `model`,
    /// `normalizer`, `pre_tokenizer`, `post_processor` or `decoder`; `path` is the field path in
    /// tokenizer.json. The description lists the supported types.
    case unsupportedComponent(kind: String, type: String, path: String)

    /// The types (and options) that are implemented, by component kind.
    public static let supportedComponents: [String: [String]] = [
        "model": ["BPE (no dropout, no continuing_subword_prefix or end_of_word_suffix)"],
        "normalizer": ["NFC", "NFD", "NFKC", "NFKD", "Prepend", "Replace (String pattern)", "Sequence"],
        "pre_tokenizer": [
            "ByteLevel (last step)", "Metaspace",
            "Split (Isolated, not inverted, with the GPT-2, Llama-3 / cl100k or Qwen2 pattern)", "Sequence",
        ],
        "post_processor": ["TemplateProcessing", "ByteLevel", "RobertaProcessing", "BertProcessing", "Sequence"],
        "decoder": ["ByteLevel", "Metaspace", "Replace (String pattern)", "ByteFallback", "Fuse", "Strip", "Sequence"],
    ]

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): no such file"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .malformedJSON(let file, let line, let column, let reason):
            return "\(file): not valid JSON at line \(line), column \(column): \(reason)"
        case .missingField(let file, let field):
            return "\(file): missing field '\(field)'"
        case .invalidField(let file, let field, let reason):
            return "\(file): field '\(field)' \(reason)"
        case .unsupportedComponent(let kind, let type, let path):
            let supported = Self.supportedComponents[kind]?.joined(separator: ", ") ?? "none"
            return "tokenizer.json: \(path): unsupported \(kind) type '\(type)' (supported: \(supported))"
        }
    }
}

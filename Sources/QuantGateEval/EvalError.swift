/// Input problems found before or while evaluating; each names the file or flag at fault.
public enum EvalError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The evaluation text could not be read as UTF-8.
    case unreadableText(file: String, reason: String)
    /// The text holds fewer tokens than the protocol needs.
    case textTooShort(file: String, tokens: Int, needed: Int, protocolName: String)
    /// `--ctx` beyond what the model was trained for.
    case contextTooLong(context: Int, maximum: Int)
    /// A flag value out of range.
    case invalidSetting(flag: String, reason: String)
    /// A task-suite or prompt file that cannot be used: the file, the line (1-based; 0 for the whole file) and why.
    case invalidTaskFile(file: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .unreadableText(let file, let reason):
            "\(file): cannot read the evaluation text: \(reason)"
        case .textTooShort(let file, let tokens, let needed, let protocolName):
            "\(file): \(tokens) tokens, but the \(protocolName) protocol needs at least \(needed); use a longer text or a smaller --ctx"
        case .contextTooLong(let context, let maximum):
            "--ctx \(context) exceeds the model's max_position_embeddings (\(maximum)); pass --allow-long-context to evaluate anyway"
        case .invalidSetting(let flag, let reason):
            "\(flag) \(reason)"
        case .invalidTaskFile(let file, let line, let reason):
            line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)"
        }
    }
}

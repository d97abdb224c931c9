/// A malformed or unsupported GGUF file, naming the file and the field, key or tensor at fault.
public enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case malformed(file: String, field: String, reason: String)
    case unsupported(file: String, field: String, reason: String)
    case tensorNotFound(file: String, name: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "\(file): \(reason)"
        case .malformed(let file, let field, let reason): "\(file): \(field): \(reason)"
        case .unsupported(let file, let field, let reason): "\(file): \(field): unsupported: \(reason)"
        case .tensorNotFound(let file, let name): "\(file): no tensor named '\(name)'"
        }
    }
}

/// A module-name pattern as `--ignore` takes it: a shell glob (`*` any run of characters, dots
/// included; `?` one character; a plain name matches itself), or `re:` and a regular expression matched
/// against the whole name. (The artefact's `ignore` list holds the matched names themselves, which
/// every loader matches exactly; ``FP8QuantizationConfig/ignores(module:)`` reads lists written by others.)
public struct ModulePattern: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    /// Whether `module` (a tensor name without `.weight`) matches.
    public func matches(_ module: String) -> Bool {
        if text.hasPrefix("re:") {
            guard let pattern = try? Regex(String(text.dropFirst(3))) else { return false }
            return (try? pattern.wholeMatch(in: module)) != nil
        }
        return Self.glob(Array(text.unicodeScalars), Array(module.unicodeScalars))
    }

    /// Whether the pattern is a valid one (a `re:` pattern that compiles).
    public var isValid: Bool { !text.hasPrefix("re:") || (try? Regex(String(text.dropFirst(3)))) != nil }

    private static func glob(_ pattern: [Unicode.Scalar], _ name: [Unicode.Scalar]) -> Bool {
        var p = 0, n = 0, star = -1, resume = 0
        while n < name.count {
            if p < pattern.count && (pattern[p] == "?" || pattern[p] == name[n]) {
                p += 1
                n += 1
            } else if p < pattern.count && pattern[p] == "*" {
                star = p
                resume = n
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                n = resume
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// Modules left unquantized unless asked otherwise: the output head and MoE routers (a router's
    /// few outputs decide which experts run; FP8 error there changes the routing).
    public static let defaultIgnored: [ModulePattern] = [
        "lm_head", "*.mlp.gate", "*.block_sparse_moe.gate", "*.shared_expert_gate", "*.router",
    ].map(ModulePattern.init)
}

import Foundation

/// Renders a ``JSONValue`` as Python's `json.dumps(value, indent=2, sort_keys=True)` does, the form
/// transformers gives `config.json` and the sharding index: integral numbers without a fraction,
/// other numbers in their shortest round-trip form, non-ASCII characters escaped.
public enum PythonJSON {
    public static func render(_ value: JSONValue, indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent + 2), closing = String(repeating: " ", count: indent)
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return format(number)
        case .string(let text): return quote(text)
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            return "[\n" + items.map { pad + render($0, indent: indent + 2) }.joined(separator: ",\n") + "\n\(closing)]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            let keys = members.keys.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
            return "{\n" + keys.map { pad + quote($0) + ": " + render(members[$0]!, indent: indent + 2) }.joined(separator: ",\n") + "\n\(closing)}"
        }
    }

    static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e16 { return String(Int64(number)) }
        return "\(number)"
    }

    static func quote(_ text: String) -> String { JSONString.quote(text, asciiOnly: true) }
}

/// JSON string literals as the two reference writers QuantGate matches byte for byte escape them:
/// `"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t` by name, other control characters as `\u00XX`; with
/// `asciiOnly` (Python's `json.dumps`, `ensure_ascii=True`) also DEL and every non-ASCII scalar as
/// `\uXXXX` (UTF-16 surrogate pairs beyond the BMP); without it (serde_json) those stay as they are.
public enum JSONString {
    public static func quote(_ text: String, asciiOnly: Bool) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7E):
                for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func hex4(_ unit: UInt16) -> String {
        let hex = String(unit, radix: 16)
        return String(repeating: "0", count: 4 - hex.count) + hex
    }
}

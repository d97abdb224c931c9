import Foundation
import QuantGateTensors

/// Reads typed fields from a JSON object, throwing ``ModelError`` values that name the file and
/// the dotted field path.
struct ConfigReader {
    let file: String
    let root: JSONValue

    init(file: String, data: Data) throws {
        self.file = file
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ModelError.malformedConfig(file: file, reason: "not valid JSON")
        }
        guard case .object = root else {
            throw ModelError.malformedConfig(file: file, reason: "top level is \(root.kind), expected an object")
        }
    }

    /// The value at a dotted path such as `rope_parameters.rope_theta`, or nil when absent or null.
    func value(_ path: String) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(root)) { $0?[String($1)] }
    }

    func has(_ path: String) -> Bool { value(path) != nil }

    /// True when the top-level field `key` is present and JSON `null`.
    func isExplicitNull(_ key: String) -> Bool {
        if case .object(let members) = root, members[key] == .null { return true }
        return false
    }

    /// A positive integer field, at most `maximum` (sizes are capped at 2³¹ so that products of two
    /// never overflow); `fallback` when absent (nil fallback makes it required).
    func positiveInt(_ path: String, fallback: Int? = nil, maximum: Int = 1 << 31) throws -> Int {
        guard let value = value(path) else {
            if let fallback { return fallback }
            throw ModelError.missingField(file: file, field: path)
        }
        guard case .number(let number) = value, number == number.rounded(), number >= 1 else {
            throw ModelError.invalidField(file: file, field: path, reason: "must be a positive integer, got \(describe(value))")
        }
        guard number <= Double(maximum) else {
            throw ModelError.invalidField(file: file, field: path, reason: "(\(describe(value))) is larger than \(maximum)")
        }
        return Int(number)
    }

    /// A finite, positive number field.
    func positiveDouble(_ path: String, fallback: Double? = nil) throws -> Double {
        guard let value = value(path) else {
            if let fallback { return fallback }
            throw ModelError.missingField(file: file, field: path)
        }
        guard case .number(let number) = value, number.isFinite, number > 0 else {
            throw ModelError.invalidField(file: file, field: path, reason: "must be a positive number, got \(describe(value))")
        }
        return number
    }

    func bool(_ path: String, fallback: Bool) throws -> Bool {
        guard let value = value(path) else { return fallback }
        guard case .bool(let flag) = value else {
            throw ModelError.invalidField(file: file, field: path, reason: "must be true or false, got \(describe(value))")
        }
        return flag
    }

    func string(_ path: String) throws -> String? {
        guard let value = value(path) else { return nil }
        guard case .string(let text) = value else {
            throw ModelError.invalidField(file: file, field: path, reason: "must be a string, got \(describe(value))")
        }
        return text
    }

    /// `value` in a message.
    func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): "\(number)"
        case .string(let text): "\"\(text)\""
        case .bool(let flag): "\(flag)"
        default: value.kind
        }
    }
}

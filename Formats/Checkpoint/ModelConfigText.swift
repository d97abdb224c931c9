import Foundation
import QuantGateOutput
import QuantGateTensors

/// `config.json` of a quantized artefact: the source model's file, byte for byte, with a
/// `quantization_config` member added, so every field the source declared reaches the loader as written.
public enum ModelConfigText {
    /// The source `config.json` text with `quantization_config` appended as its last member.
    /// - Throws: ``QuantizedCheckpointError/unreadableConfig(file:reason:)`` when the source is not a JSON
    ///   object, or already declares a quantization (quantizing a quantized model is refused).
    public static func adding(quantizationConfig: JSONValue, toConfigOf directory: String) throws -> String {
        let (path, data, object) = try read(directory: directory)
        guard object.object?["quantization_config"] == nil else {
            throw QuantizedCheckpointError.unreadableConfig(file: path, reason: "already has a quantization_config (even null): quantize an unquantized checkpoint without one")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: "}") else { throw QuantizedCheckpointError.unreadableConfig(file: path, reason: "is not a JSON object") }
        var body = String(text[..<close])
        while let last = body.last, last.isWhitespace { body.removeLast() }
        let separator = object.object?.isEmpty == false ? "," : ""
        return body + separator + "\n  \"quantization_config\": " + PythonJSON.render(quantizationConfig, indent: 2) + "\n}\n"
    }

    /// `directory`'s `config.json` parsed.
    /// - Throws: ``QuantizedCheckpointError/unreadableConfig(file:reason:)`` when missing, not JSON or not an object.
    public static func object(directory: String) throws -> JSONValue {
        try read(directory: directory).object
    }

    /// `directory`'s `config.json`: its path, bytes and parsed object.
    private static func read(directory: String) throws(QuantizedCheckpointError) -> (path: String, data: Data, object: JSONValue) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadableConfig(file: path, reason: OutputError.plainReason(error))
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw .unreadableConfig(file: path, reason: OutputError.plainReason(error))
        }
        guard value.object != nil else { throw .unreadableConfig(file: path, reason: "is not a JSON object") }
        return (path, data, value)
    }
}

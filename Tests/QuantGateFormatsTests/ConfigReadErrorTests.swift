import Foundation
import QuantGateFormats
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// Format readers say what is wrong with the file in words, blaming the key the file holds (issue defect 17).
@Suite("format readers name the file and the fault")
struct ConfigReadErrorTests {
    @Test("config.json that is a directory, missing, not JSON or not an object; a GGUF path that is a directory")
    func unreadable() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        #expect(throws: QuantizedCheckpointError.unreadableConfig(file: config.path, reason: "no such file or directory")) {
            try ModelConfigText.object(directory: directory.path)
        }
        for (text, reason) in [("{", "is not valid JSON"), ("[1]", "is not a JSON object")] {
            try text.write(to: config, atomically: true, encoding: .utf8)
            #expect(throws: QuantizedCheckpointError.unreadableConfig(file: config.path, reason: reason)) {
                try ModelConfigText.object(directory: directory.path)
            }
        }
        try FileManager.default.removeItem(at: config)
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: false)
        #expect(throws: QuantizedCheckpointError.unreadableConfig(file: config.path, reason: "is a directory")) {
            try ModelConfigText.object(directory: directory.path)
        }
        #expect(throws: GGUFError.unreadable(file: config.path, reason: "is a directory")) { try GGUFFile(path: config.path) }
    }

    @Test("quantization_config values are shown as JSON, never as Swift enum cases")
    func valuesShown() {
        let cases: [(JSONValue, String)] = [
            (.object(["quant_method": .string("awq"), "bits": .number(4), "group_size": .number(32), "zero_point": .bool(false)]),
             "zero_point: is false, expected true"),
            (.object(["quant_method": .number(3)]), "quant_method: is 3, expected \"awq\""),
        ]
        for (json, words) in cases {
            #expect { try AWQQuantizationConfig(json: json, file: "c") } throws: { "\($0)".contains(words) && !"\($0)".contains("bool(") }
        }
        let fp8: JSONValue = .object(["quant_method": .string("compressed-tensors"), "format": .string("float-quantized"),
                                      "config_groups": .object(["g": .object(["targets": .array([.string("Embedding")])])])])
        #expect { try FP8QuantizationConfig(json: fp8, file: "c") } throws: {
            "\($0)" == "c: quantization_config.config_groups.g.targets: is [\"Embedding\"], expected [\"Linear\"]"
        }
        #expect { try FP8QuantizationConfig(json: .object(["quant_method": .string("fp8")]), file: "c") } throws: {
            "\($0)" == "c: quantization_config.quant_method: is \"fp8\", expected \"compressed-tensors\""
        }
    }

    @Test("a GGUF general.alignment of the wrong type is named by its GGUF type, not a Swift enum case")
    func alignmentShown() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var bytes = Array("GGUF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func append(_ text: String) { append(UInt64(text.utf8.count)); bytes += Array(text.utf8) }
        append(UInt32(3)); append(UInt64(0)); append(UInt64(1))
        append("general.alignment"); append(UInt32(8)); append("wide")
        let path = directory.appendingPathComponent("a.gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: GGUFError.malformed(file: path, field: "general.alignment", reason: "must be a uint32 power of two up to 2^20, is a string value")) {
            try GGUFFile(path: path)
        }
    }
}

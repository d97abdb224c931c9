import Foundation
import QuantGateTestSupport
import Testing

/// Issue defect 17: every input error names the file and says what is wrong with it in words, with
/// exit 2, before any model runs; never a raw Foundation error (`NSCocoaErrorDomain`, `Error Domain=`).
@Suite("input errors name the file and the fault in words")
struct MessagesTests {
    let model = Fixtures.exampleModel.path
    static let hamlet = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Calibration/eval/hamlet.txt").path

    /// `result` is an input error whose stderr holds every one of `fragments` and no raw Foundation text.
    static func refused(_ result: CLI.Result, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "no '\(fragment)' in: \(result.stderr)", sourceLocation: sourceLocation)
        }
        for raw in ["NSCocoaErrorDomain", "Error Domain=", "DecodingError"] {
            #expect(!result.stderr.contains(raw), "raw error text in: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// `eval BASELINE BASELINE` on hamlet without the smoke test, plus `arguments`: fails before any forward pass.
    func compare(_ arguments: [String]) throws -> CLI.Result {
        try CLI.run(["eval", model, model, "--text", Self.hamlet, "--no-smoke", "--quiet"] + arguments)
    }

    /// A file `name` holding `text` in a fresh temporary directory (removed by the caller).
    static func write(_ text: String, _ name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("--text: a directory, a missing file, bytes that are not UTF-8")
    func evaluationText() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("binary.txt")
        try Data([0xff, 0xfe, 0x00]).write(to: binary)
        let cases = [(directory.path, "is a directory"), (directory.appendingPathComponent("gone.txt").path, "no such file or directory"),
                     (binary.path, "is not UTF-8 text")]
        for (path, words) in cases {
            Self.refused(try CLI.run(["eval", model, "--text", path]), "\(path): cannot read the evaluation text: \(words)")
        }
    }

    @Test("task suites: gold 1.5 is not an index, a line that is not an object, a directory")
    func taskSuites() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = #"{"id": "a", "context": "To be", "choices": ["or", "and"], "gold": 0}"#
        let cases = [
            (good + "\n" + #"{"id": "b", "context": "x", "choices": ["a", "b"], "gold": 1.5}"#, ":2: gold must be a whole number index into choices, got 1.5"),
            (#"{"id": 1.5, "context": "x", "choices": ["a", "b"], "gold": 0}"#, ":1: id must be a string or a whole number, got 1.5"),
            (#"{"kind": "exact", "prompt": "P", "target": "T", "max_tokens": 2.5}"#, ":1: max_tokens must be a whole number in 1...4096, got 2.5"),
            ("[1, 2]", ":1: is not a JSON object"),
            (#"{"context": "x", "choices": ["a", "b"], "label": null}"#, ":1: needs \"gold\" (or \"label\")"),
        ]
        for (index, (text, words)) in cases.enumerated() {
            let suite = try Self.write(text, "suite\(index).jsonl", in: directory)
            Self.refused(try compare(["--tasks", suite]), suite + words)
        }
        let folder = directory.appendingPathComponent("folder.jsonl")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        Self.refused(try compare(["--tasks", folder.path]), "\(folder.path): is a directory")
    }

    @Test("smoke prompts: an id of any kind is ignored, the bad line is the one named")
    func smokePrompts() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prompts = try Self.write("{\"id\": 1, \"prompt\": \"HAMLET.\"}\nnot json\n", "prompts.jsonl", in: directory)
        let result = try CLI.run(["eval", model, model, "--text", Self.hamlet, "--no-tasks", "--smoke-prompts", prompts, "--quiet"])
        Self.refused(result, "\(prompts):2: is not a JSON object")
    }

    @Test("policy files: missing, a directory, not UTF-8, a YAML syntax error at its line")
    func policyFiles() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("binary.yaml")
        try Data([0xff, 0xfe]).write(to: binary)
        let broken = try Self.write("version: 1\ntargets: [cpu\n", "broken.yaml", in: directory)
        let cases = [(directory.appendingPathComponent("gone.yaml").path, ": no such file or directory"), (directory.path, ": is a directory"),
                     (binary.path, ": is not UTF-8 text"), (broken, ":3: not YAML or JSON: did not find expected")]
        for (path, words) in cases {
            Self.refused(try compare(["--no-tasks", "--gate", "--target", "cpu", "--policy", path]), path + words)
        }
    }

    @Test("saved reports: a directory, not JSON, another document, a missing field")
    func savedReports() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        Self.refused(try CLI.run(["gate", directory.path]), "\(directory.path): is a directory")
        let cases = [("{", "not a QuantGate eval report: is not valid JSON"), ("[]", "not a QuantGate eval report: is not a JSON object"),
                     (#"{"schema": 2}"#, "not a QuantGate eval report: field \"schema\" has the wrong type (expected a string)"),
                     (#"{"schema": "x"}"#, "not a QuantGate eval report: missing field")]
        for (index, (text, words)) in cases.enumerated() {
            let path = try Self.write(text, "report\(index).json", in: directory)
            Self.refused(try CLI.run(["gate", path]), "\(path): \(words)")
        }
    }

    @Test("quantization_config: an AWQ config under another quant_method blames quant_method; the layout key blamed is the one written")
    func quantizationConfigs() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let awq = #""bits": 4, "group_size": 32, "zero_point": true"#
        let cases = [
            ("awq-as-gptq", #"{"quant_method": "gptq", "version": "gemm", "# + awq + "}",
             #"quantization_config.quant_method: is "gptq", but the config holds AutoAWQ's zero_point; expected "awq""#),
            ("awq-marlin", #"{"quant_method": "awq_marlin", "version": "gemm", "# + awq + "}",
             #"quantization_config.quant_method: is "awq_marlin", expected "awq""#),
            ("awq-format", #"{"quant_method": "awq", "format": "gemv", "# + awq + "}", #"quantization_config.format: is "gemv""#),
            ("gptq-format", #"{"quant_method": "gptq", "bits": 4, "group_size": 32, "format": "marlin"}"#,
             #"quantization_config.format: is "marlin""#),
            ("fp8-bits", #"{"quant_method": "compressed-tensors", "format": "float-quantized", "config_groups": {"g": {"targets": ["Linear"], "weights": {"type": "float", "num_bits": 4}}}}"#,
             "quantization_config.config_groups.g.weights.num_bits: is 4, expected 8"),
        ]
        for (name, quantization, words) in cases {
            let config = try Self.write(#"{"model_type": "llama", "quantization_config": "# + quantization + "}", "\(name)/config.json", in: directory)
            Self.refused(try CLI.run(["eval", model, directory.appendingPathComponent(name).path, "--text", Self.hamlet,
                                      "--no-tasks", "--no-smoke", "--quiet"]), "\(config): \(words)")
        }
    }

    @Test("a checkpoint that declares another quantization is refused as a source and as a candidate, naming quantization_config")
    func declaredQuantization() throws {
        let copy = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: copy) }
        try CheckpointDamage.setField("quantization_config", to: #"{"quant_method": "bitsandbytes", "load_in_4bit": true}"#, in: copy)
        let out = copy.appendingPathComponent("out.gguf").path
        Self.refused(try CLI.run(["quantize", copy.path, "--format", "gguf:Q8_0", "--out", out]), "quantization_config", "bitsandbytes")
        Self.refused(try CLI.run(["eval", copy.path, "--text", Self.hamlet]), "quantization_config", "bitsandbytes")
        Self.refused(try CLI.run(["eval", model, copy.path, "--text", Self.hamlet, "--no-smoke", "--quiet"]),
                     "quant_method \"bitsandbytes\"", "reads compressed-tensors")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("a config.json that cannot be read says why (a directory), not just 'cannot read'")
    func unreadableConfig() throws {
        let copy = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: copy) }
        let config = copy.appendingPathComponent("config.json")
        try FileManager.default.removeItem(at: config)
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: false)
        Self.refused(try CLI.run(["inspect", copy.path]), "config.json", "is a directory")
    }

    @Test("calibrate: an error after the data are read still shows their diagnostics on stderr")
    func calibrationDiagnosticsSurvive() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let foreign = try Self.write("not a statistics file", "stats.h5", in: directory)
        let result = try CLI.run(["calibrate", model, "--data", "prose", "--samples", "2", "--seq-len", "64", "--out", foreign])
        Self.refused(result, "stats.h5", "pass --force", "calibration so far:", "tokens ")
        #expect(try String(contentsOfFile: foreign, encoding: .utf8) == "not a statistics file")
    }
}

import Foundation
import QuantGateTestSupport
import Testing

/// Runs the built `quantgate` binary: output, JSON report and exit codes.
@Suite("quantgate inspect")
struct InspectCommandTests {
    @Test("inspect on the example model reports every tensor and the parameter count")
    func exampleModel() throws {
        let result = try CLI.run(["inspect", Fixtures.exampleModel.path])
        #expect(result.status == 0, "\(result.stderr)")
        // 4096·256 (embed) + 4096·256 (lm_head) + 256 (norm) + 4 × (2·256 + 256·256 + 2·128·256 + 256·256 + 3·768·256)
        #expect(result.stdout.contains("Parameters:   5,245,184 (5.25M)"))
        #expect(result.stdout.contains("Architecture: llama · hidden 256 · layers 4 · heads 8 (kv 4, head_dim 32)"))
        #expect(result.stdout.contains("BF16    10,490,368 bytes in 39 tensors"))
        #expect(result.stdout.contains("model.layers.3.mlp.down_proj.weight"))
        #expect(result.stdout.contains("Check against config.json: OK"))
    }

    @Test("--json gives a machine-readable report")
    func json() throws {
        let result = try CLI.run(["inspect", Fixtures.exampleModel.path, "--json"])
        #expect(result.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["parameters"] as? Int == 5_245_184)
        #expect((report["tensors"] as? [Any])?.count == 39)
        let check = try #require(report["check"] as? [String: Any])
        #expect(check["passed"] as? Bool == true)
        let architecture = try #require(report["architecture"] as? [String: Any])
        #expect(architecture["modelType"] as? String == "llama")
    }

    @Test("a single .safetensors file is inspected without a config")
    func singleFile() throws {
        let result = try CLI.run(["inspect", Fixtures.golden("safetensors_all_dtypes.safetensors").path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("F8_E4M3") && !result.stdout.contains("Architecture:"))
    }

    @Test("bad input exits 2 with a message naming the file", arguments: [
        (["inspect", "/nonexistent/model"], "error: /nonexistent/model: no such file or directory"),
        (["inspect"], "Error: Missing expected argument '<model>'"),
        (["inspect", "--frobnicate", "x"], "Error: Unknown option '--frobnicate'"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a corrupt weights file exits 2 naming it")
    func corruptWeights() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: Fixtures.exampleModel.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
        let weights = directory.appendingPathComponent("model.safetensors")
        try Data("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 10\n".utf8).write(to: weights)
        let result = try CLI.run(["inspect", directory.path])
        #expect(result.status == 2)
        #expect(result.stderr == "error: \(weights.path): is a Git LFS pointer, not the weights; run `git lfs pull` (or download the real file)\n")
    }

    @Test("a config that disagrees with the tensors prints the report, then exits 2")
    func disagreeingConfig() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent("model.safetensors"),
            withDestinationURL: Fixtures.exampleModel.appendingPathComponent("model.safetensors"))
        let config = try String(contentsOf: Fixtures.exampleModel.appendingPathComponent("config.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"vocab_size\": 4096", with: "\"vocab_size\": 4000")
        try config.write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["inspect", directory.path])
        #expect(result.status == 2)
        #expect(result.stdout.contains("wrong shape: model.embed_tokens.weight: expected [4000, 256], found [4096, 256]"))
        #expect(result.stderr.hasPrefix("error: \(directory.path): tensors disagree with config.json: 2 wrong-shaped"))
    }

    @Test("--help explains the command")
    func help() throws {
        let result = try CLI.run(["inspect", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: quantgate inspect <model> [--json]"))
        #expect(result.stdout.contains("model.safetensors.index.json"))
    }
}

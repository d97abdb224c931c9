import Foundation
import QuantGateTestSupport
import Testing

/// `quantgate eval`: the report, and the bad inputs a user hits first (exit 2, a message naming the cause).
@Suite("quantgate eval")
struct EvalCommandTests {
    static let hamlet = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Calibration/eval/hamlet.txt")

    /// A text file of `count` repetitions of a line, in a fresh directory.
    static func text(_ line: String, times count: Int, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("text.txt")
        try String(repeating: line, count: count).write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    @Test("--json reports perplexity, its error, tokens scored, speed and the protocol")
    func jsonReport() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try Self.text("To be, or not to be, that is the question.\n", times: 60, in: directory)
        let result = try CLI.run(["eval", Fixtures.exampleModel.path, "--text", text, "--ctx", "128", "--stride", "64", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["protocolName"] as? String == "hf")
        #expect(report["stride"] as? Int == 64 && report["context"] as? Int == 128)
        let perplexity = try #require(report["perplexity"] as? Double)
        #expect(perplexity > 1 && perplexity < 50, "a repeated line becomes predictable: \(perplexity)")
        #expect((report["standardError"] as? Double ?? 0) > 0 && (report["tokensPerSecond"] as? Double ?? 0) > 0)
    }

    @Test("bad input exits 2 with a clear message")
    func badInput() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let short = try Self.text("Short.\n", times: 3, in: directory)
        let model = Fixtures.exampleModel.path

        var result = try CLI.run(["eval", model, "--text", short])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(short): 13 tokens, but the hf protocol needs at least 512"), "\(result.stderr)")

        result = try CLI.run(["eval", model, "--text", Self.hamlet.path, "--ctx", "1024"])
        #expect(result.status == 2)
        #expect(result.stderr == "error: --ctx 1024 exceeds the model's max_position_embeddings (512); pass --allow-long-context to evaluate anyway\n")

        result = try CLI.run(["eval", model, "--text", Self.hamlet.path, "--ctx", "4", "--protocol", "llama.cpp"])
        #expect(result.status == 2 && result.stderr == "error: --ctx must be at least 8, got 4\n")

        result = try CLI.run(["eval", model, "--text", directory.appendingPathComponent("absent.txt").path])
        #expect(result.status == 2 && result.stderr.contains("absent.txt: cannot read the evaluation text"))

        result = try CLI.run(["eval", model, "--text", Self.hamlet.path, "--protocol", "vllm"])
        #expect(result.status == 2 && result.stderr.contains("--protocol"))

        // A model directory without tokenizer.json.
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(
                at: directory.appendingPathComponent(name), withDestinationURL: Fixtures.exampleModel.appendingPathComponent(name))
        }
        result = try CLI.run(["eval", directory.path, "--text", Self.hamlet.path])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("tokenizer.json"), "\(result.stderr)")
    }
}

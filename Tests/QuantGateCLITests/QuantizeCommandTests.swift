import Foundation
import QuantGateTestSupport
import Testing

/// `quantgate quantize --target cpu`, then `inspect` and `eval` of the GGUF file it wrote.
@Suite("quantgate quantize")
struct QuantizeCommandTests {
    let model = Fixtures.root.appendingPathComponent("tiny-llama-linear").path

    @Test("quantize → inspect → eval of the artefact; a second run reuses the calibration cache")
    func endToEnd() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("model.gguf").path
        let imatrix = directory.appendingPathComponent("imatrix.gguf").path
        let arguments = ["quantize", model, "--target", "cpu", "--format", "gguf:q4_k_m", "--data", "prose", "--samples", "4",
                         "--seq-len", "32", "--out", out, "--save-imatrix", imatrix]
        let first = try CLI.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("GGUF Q4_K_M") && first.stdout.contains("importance: calibration data"))
        #expect(first.stderr.contains("calibration cache") && first.stderr.contains("absent"))
        let second = try CLI.run(arguments)
        #expect(second.stderr.contains(": hit"), "\(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: imatrix))

        let inspect = try CLI.run(["inspect", out, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect((report["tensors"] as? [[String: Any]])?.count == 2 * 16 + 3, "9 matrices, 7 biases and 2 norms per block; embeddings, final norm, head")
        #expect((report["metadata"] as? [String: String])?["general.architecture"] == "\"llama\"")

        let text = directory.appendingPathComponent("text.txt").path
        try String(repeating: "To be, or not to be, that is the question. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let eval = try CLI.run(["eval", out, "--text", text, "--ctx", "64", "--json", "--quiet"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        #expect((result["perplexity"] as? Double ?? 0) > 1)
    }

    @Test("bad targets, formats and files are usage errors")
    func badInput() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("never-written.gguf").path
        let target = try CLI.run(["quantize", model, "--target", "a100", "--out", out])
        #expect(target.status == 2 && target.stderr.contains("gptq"), "\(target.stderr)")
        let mismatch = try CLI.run(["quantize", model, "--target", "h100", "--format", "gguf:Q8_0", "--out", out])
        #expect(mismatch.status == 2 && mismatch.stderr.contains("runs fp8"), "\(mismatch.stderr)")
        let shard = try CLI.run(["quantize", model, "--target", "h100", "--max-shard-size", "lots", "--out", out])
        #expect(shard.status == 2 && shard.stderr.contains("--max-shard-size"), "\(shard.stderr)")
        let format = try CLI.run(["quantize", model, "--format", "gguf:Q9_X", "--out", out])
        #expect(format.status == 2 && format.stderr.contains("expected gguf:MIXTURE"))
        let notGGUF = try CLI.run(["inspect", Fixtures.golden("numerics_encode.json").path.replacingOccurrences(of: ".json", with: ".gguf")])
        #expect(notGGUF.status == 2)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

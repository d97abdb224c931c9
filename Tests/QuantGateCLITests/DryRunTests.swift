import Foundation
import QuantGateTestSupport
import Testing

/// `--dry-run` on quantize, eval and pipeline: an estimate for every stage a real run records (the same names,
/// in the same order, as the real run's `run.stages`), nothing written.
@Suite("--dry-run estimates")
struct DryRunTests {
    let model = Fixtures.exampleModel.path
    let calibration = ["--data", Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Calibration/train/shakespeare").path, "--samples", "4", "--seq-len", "64"]

    func object(_ result: CLI.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
    }

    /// The stage names of a dry run's estimate, checked for positive figures.
    func estimatedStages(_ arguments: [String]) throws -> [String] {
        let result = try CLI.run(arguments + ["--dry-run", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let estimate = try #require(try object(result)["estimate"] as? [String: Any])
        let stages = try #require(estimate["stages"] as? [[String: Any]])
        for stage in stages {
            #expect((stage["peakRSSBytes"] as? Int ?? 0) > 1 << 20, "\(stage)")
            #expect((stage["seconds"] as? Double ?? -1) >= 0, "\(stage)")
        }
        return stages.compactMap { $0["name"] as? String }
    }

    /// The stage names a real run recorded.
    func recordedStages(_ arguments: [String]) throws -> [String] {
        let result = try CLI.run(arguments + ["--json", "--quiet"])
        #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
        let run = try #require(try object(result)["run"] as? [String: Any])
        return try #require(run["stages"] as? [[String: Any]]).compactMap { $0["name"] as? String }
    }

    @Test("quantize: every target's estimate names the stages its run records, and writes nothing", arguments: ["cpu", "h100", "a100", "l40s"])
    func quantize(target: String) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent(target == "cpu" ? "model.gguf" : "model").path
        let arguments = ["quantize", model, "--target", target, "--out", out] + calibration
        let estimated = try estimatedStages(arguments)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "a dry run writes nothing")
        #expect(estimated == (try recordedStages(arguments)))
        #expect(estimated.first == "check")
    }

    @Test("eval of one model and pipeline: the estimate names the stages the run records")
    func evalAndPipeline() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A few windows of text keep the real runs short.
        let text = directory.appendingPathComponent("hamlet-start.txt")
        try String(try String(contentsOfFile: BadInputTests.hamlet, encoding: .utf8).prefix(6000)).write(to: text, atomically: true, encoding: .utf8)
        let eval = ["eval", model, "--text", text.path, "--protocol", "llama.cpp", "--ctx", "128"]
        #expect(try estimatedStages(eval) == ["check", "perplexity"])
        #expect(try recordedStages(eval) == ["check", "perplexity"])
        let out = directory.appendingPathComponent("run").path
        let pipeline = ["pipeline", model, "--targets", "cpu,h100", "--no-tasks", "--no-smoke", "--eval-text", text.path, "--ctx", "128",
                        "--out", out] + calibration
        let estimated = try estimatedStages(pipeline)
        #expect(!FileManager.default.fileExists(atPath: out), "a dry run writes nothing")
        #expect(estimated == (try recordedStages(pipeline)))
        #expect(estimated.filter { $0.hasPrefix("candidate ") }.count == 2, "\(estimated)")
    }

    @Test("the text form lists every stage, the total and the rates")
    func text() throws {
        let result = try CLI.run(["quantize", model, "--target", "a100", "--out", "/nonexistent-dir/model", "--dry-run"] + calibration)
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["stage ", "check ", "gptq ", "write ", "total ", "rates: f32 GEMM"] {
            #expect(result.stdout.contains(line), "\(line)")
        }
    }
}

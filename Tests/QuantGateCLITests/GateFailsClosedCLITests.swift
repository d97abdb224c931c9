import Foundation
import QuantGateTestSupport
import Testing

/// The gate fails closed through the executable: a gated metric that was not measured fails, a policy
/// naming an unknown target and a report that contradicts itself are input errors (exit 2), and a
/// format the target does not run fails its gate. GateCommandsTests' small settings on a 4 000-character
/// text keep each eval to seconds.
@Suite("quantgate gate fails closed", .serialized)
struct GateFailsClosedCLITests {
    let model = Fixtures.exampleModel.path

    /// Quantizes the example model to Q8_0 in `directory` and runs `eval --gate --target TARGET` on it
    /// (with the small task suite, or `--no-tasks`), adding `extra`.
    func evalQ8(in directory: URL, target: String, tasks: Bool = true, _ extra: [String] = []) throws -> CLI.Result {
        var settings = try GateCommandsTests.smallSettings(in: directory)
        if !tasks, let index = settings.firstIndex(of: "--tasks") {
            settings.replaceSubrange(index...index + 1, with: ["--no-tasks"])
        }
        let text = directory.appendingPathComponent("short.txt")
        try String(try String(contentsOf: directory.appendingPathComponent("text.txt"), encoding: .utf8).prefix(4000))
            .write(to: text, atomically: true, encoding: .utf8)
        let q8 = try GateCommandsTests.quantize(model, "Q8_0", in: directory)
        return try CLI.run(["eval", model, q8, "--text", text.path, "--gate", "--target", target] + extra + settings)
    }

    @Test("defect 8: --no-tasks fails a gate whose policy gates task accuracy (not measured); --tasks with --no-tasks is refused")
    func noTasksFails() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try evalQ8(in: directory, target: "cpu", tasks: false)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("gate: FAIL") && result.stdout.contains("task.*.accuracy_delta_pt: not measured"), "\(result.stdout)")

        let both = try CLI.run(["eval", model, model, "--tasks", "builtin", "--no-tasks"])
        #expect(both.status == 2 && both.stderr.contains("--tasks and --no-tasks"), "\(both.stderr)")
    }

    @Test("defect 9: a policy naming an unknown target is refused (exit 2) before any model runs")
    func unknownPolicyTarget() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = directory.appendingPathComponent("cpus.yaml").path
        try "version: 1\ntargets:\n  cpus:\n    mean_kld: 0.00000001\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let result = try CLI.run(["eval", model, model, "--gate", "--target", "cpu", "--policy", policy])
        #expect(result.status == 2 && result.stderr.contains("\(policy): targets.cpus: unknown target"), "\(result.stderr)")
        let target = try CLI.run(["eval", model, model, "--gate", "--target", "cpus"])
        #expect(target.status == 2 && target.stderr.contains("no gate for target cpus"), "\(target.stderr)")
    }

    @Test("defect 10: gate REPORT.json refuses a tampered report (exit 2) naming the file, the candidate and the field")
    func tamperedReports() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let reports = directory.appendingPathComponent("reports")
        let result = try evalQ8(in: directory, target: "cpu", ["--report", reports.path])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let original = reports.appendingPathComponent("report.json")
        #expect(try CLI.run(["gate", original.path]).status == 0, "the report eval writes validates")

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: original)) as? [String: Any])
        func metric(_ candidate: [String: Any], _ id: String) -> [String: Any] {
            (candidate["metrics"] as! [[String: Any]]).first { $0["id"] as? String == id }!
        }
        func replacing(_ id: String, in candidate: inout [String: Any], with change: (inout [String: Any]) -> Void) {
            candidate["metrics"] = (candidate["metrics"] as! [[String: Any]]).map { entry in
                var entry = entry
                if entry["id"] as? String == id { change(&entry) }
                return entry
            }
        }
        let tampering: [(String, (inout [String: Any]) -> Void)] = [
            ("metrics.mean_kld: listed more than once", { candidate in
                var failing = metric(candidate, "mean_kld")
                failing["value"] = 1.0
                failing["lower"] = 0.9
                failing["upper"] = 1.1
                candidate["metrics"] = (candidate["metrics"] as! [[String: Any]]) + [failing]
            }),
            ("metrics.mean_kld: interval", { replacing("mean_kld", in: &$0) { $0["lower"] = 0.5; $0["upper"] = 0.0 } }),
            ("metrics.top1_agreement_pct: no interval", { replacing("top1_agreement_pct", in: &$0) { $0["lower"] = nil; $0["upper"] = nil } }),
            ("structural: no check listed", { $0["structural"] = [[String: Any]]() }),
            ("format: onnx is not a format", { $0["format"] = "onnx" }),
        ]
        for (index, (expected, change)) in tampering.enumerated() {
            var copy = report
            var candidates = try #require(copy["candidates"] as? [[String: Any]])
            change(&candidates[0])
            copy["candidates"] = candidates
            let path = directory.appendingPathComponent("tampered\(index).json").path
            try JSONSerialization.data(withJSONObject: copy).write(to: URL(fileURLWithPath: path))
            let gated = try CLI.run(["gate", path])
            #expect(gated.status == 2, "\(expected): \(gated.stdout)\n\(gated.stderr)")
            #expect(gated.stderr.contains("\(path): candidates[0] (bard-Q8_0.gguf for cpu): \(expected)"), "\(gated.stderr)")
        }
    }

    @Test("defect 11: a GGUF fails eval --gate --target h100 on the structural check format-for-target")
    func formatForTarget() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try evalQ8(in: directory, target: "h100")
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("structural check format-for-target: h100 runs fp8; the candidate is gguf"), "\(result.stdout)")
    }

    @Test("a GPTQ checkpoint with group act-order (desc_act true, groups of 128) fails eval --gate --target a100 on loads-in-vllm, naming the rule and the vLLM release")
    func groupActOrderFailsLoaderCheck() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let settings = try GateCommandsTests.smallSettings(in: directory)
        let text = directory.appendingPathComponent("text.txt").path
        let out = directory.appendingPathComponent("gptq-group").path
        let quantize = try CLI.run(["quantize", model, "--target", "a100", "--act-order", "group", "--data", text, "--samples", "4",
                                    "--seq-len", "128", "--out", out, "--quiet"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(quantize.stdout.contains("GPTQ-W4G128-GACT"), "\(quantize.stdout)")
        #expect(quantize.stderr.contains("warning: vLLM 0.32.0 refuses it (rule gptq-group-act-order"), "the flags are warned about: \(quantize.stderr)")
        let config = try String(contentsOfFile: out + "/config.json", encoding: .utf8)
        #expect(config.contains("\"desc_act\": true") && config.contains("\"act_order\": \"group\""), "\(config)")

        let result = try CLI.run(["eval", model, out, "--text", text, "--gate", "--target", "a100"] + settings)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("structural check loads-in-vllm: vLLM 0.32.0 refuses it (rule gptq-group-act-order"), "\(result.stdout)")
        #expect(result.stdout.contains("GPTQ group activation ordering (desc_act=True) is no longer supported"), "\(result.stdout)")
    }
}

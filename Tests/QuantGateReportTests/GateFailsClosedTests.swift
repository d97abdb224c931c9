import Foundation
import QuantGateFormats
import QuantGateReport
import QuantGateTestSupport
import Testing

/// The gate fails closed on what was not measured, on a format the target does not run, and refuses
/// (an input error) a policy naming an unknown target and a report that contradicts itself.
@Suite("Gate fails closed")
struct GateFailsClosedTests {
    static func decide(_ report: EvalReport, _ policy: GatePolicy = GateTests.policy, target: String? = nil) throws -> CandidateVerdict {
        try Gate.decide(report: report, policy: policy, target: target).candidates[0]
    }

    @Test("a task-accuracy threshold with no suite scored fails as not measured; so does a suite a per-suite threshold names")
    func unmeasuredTasksFail() throws {
        let noTasks = GateTests.report(Array(GateTests.kld(0.01, 0.005, 0.015).prefix(2)))
        let verdict = try Self.decide(noTasks)
        let tasks = try #require(verdict.verdicts.first { $0.metric == MetricID.everyTaskAccuracyDelta })
        #expect(!verdict.passed && tasks.verdict == .fail && tasks.message.contains("not measured"), "\(tasks.message)")
        var untasked = GateTests.policy
        untasked.targets["cpu"]!.taskAccuracyDeltaPoints = nil
        #expect(try Self.decide(noTasks, untasked).passed, "nothing gates tasks: nothing is missing")

        var named = GateTests.policy
        named.targets["cpu"]!.taskOverrides["hellaswag"] = -5
        let missingSuite = try Self.decide(GateTests.report(GateTests.kld(0.01, 0.005, 0.015)), named)
        #expect(!missingSuite.passed && missingSuite.verdicts.contains {
            $0.metric == MetricID.taskAccuracyDelta("hellaswag") && $0.message.contains("not measured")
        })
        // A suite the run scored whose metric the candidate lacks.
        var dropped = GateTests.report(GateTests.kld(0.01, 0.005, 0.015))
        dropped.candidates[0].metrics.removeLast()
        #expect(try !Self.decide(dropped).passed)
    }

    @Test("a value outside its own interval never passes: the decision takes the value with the interval")
    func valueOutsideInterval() throws {
        let honest = try Self.decide(GateTests.report(GateTests.kld(0.01, 0.005, 0.015)))
        #expect(honest.passed, "an honest report passes")
        let tampered = try Self.decide(GateTests.report(GateTests.kld(40, 0.005, 0.015)))
        let kld = try #require(tampered.verdicts.first { $0.metric == MetricID.meanKLD })
        #expect(!tampered.passed && kld.verdict != .pass, "\(kld.message)")
        var below = GateTests.kld(0.01, 0.005, 0.015)
        below[1] = MetricResult(id: MetricID.top1AgreementPercent, value: 10, lower: 94, upper: 96)
        #expect(try !Self.decide(GateTests.report(below)).passed, "top-1 of 10 % with a tampered interval")
    }

    @Test("a policy naming an unknown target is refused, naming the file and the key")
    func unknownPolicyTarget() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        try "version: 1\ntargets:\n  cpus:\n    mean_kld: 0.001\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: ReportError.self) { try GatePolicy.load(path: path) }
        #expect(error.description.contains(path) && error.description.contains("targets.cpus: unknown target"), "\(error)")
        #expect(throws: ReportError.self) { try GatePolicy.defaults.thresholds(forTarget: "cpus") }
    }

    @Test("an inconsistent report is refused before deciding, naming the report, the candidate and the field")
    func inconsistentReports() throws {
        let valid = GateTests.report(GateTests.kld(0.01, 0.005, 0.015))
        try valid.validate(source: "r.json")
        #expect(try Self.decide(valid).passed)
        func tampered(_ change: (inout CandidateReport) -> Void) -> EvalReport {
            var report = valid
            change(&report.candidates[0])
            return report
        }
        let failingKLD = MetricResult(id: MetricID.meanKLD, value: 0.5, lower: 0.4, upper: 0.6)
        let cases: [(EvalReport, String)] = [
            (tampered { $0.metrics.append(failingKLD) }, "metrics.mean_kld: listed more than once"),
            (tampered { $0.metrics[0] = MetricResult(id: MetricID.meanKLD, value: 0.01, lower: 0.03, upper: 0.001) }, "metrics.mean_kld: interval"),
            (tampered { $0.metrics[0] = MetricResult(id: MetricID.meanKLD, value: 0.01) }, "metrics.mean_kld: no interval"),
            (tampered { $0.metrics[0].upper = nil }, "metrics.mean_kld: only one bound"),
            (tampered { $0.metrics.append(MetricResult(id: "speed", value: 1)) }, "metrics.speed: not a metric"),
            (tampered { $0.metrics.append(MetricResult(id: MetricID.taskAccuracyDelta("other"), value: 0, lower: -1, upper: 1)) },
             "metrics.task.other.accuracy_delta_pt: suite other is not in settings.taskSuites"),
            (tampered { $0.metrics.append(MetricResult(id: MetricID.smoke, value: 0.5)) }, "metrics.smoke: 0.5 is neither"),
            (tampered { $0.structural = [] }, "structural: no check listed"),
            (tampered { $0.files = [] }, "files: none listed"),
            (tampered { $0.format = "onnx" }, "format: onnx is not a format"),
            (tampered { $0.target = "cpus" }, "target: cpus is not a known target"),
        ]
        for (report, expected) in cases {
            let error = try #require(throws: ReportError.self, "\(expected)") {
                try Gate.decide(report: report, policy: GateTests.policy, target: "cpu", source: "r.json")
            }
            #expect(error.description.hasPrefix("r.json: candidates[0] (m<&\">.gguf for ") && error.description.contains(expected), "\(error)")
        }
        var schema = valid
        schema.schema = "quantgate.eval-report/0"
        #expect(throws: ReportError.self) { try Gate.decide(report: schema, policy: GateTests.policy, target: nil) }
        var empty = valid
        empty.candidates = []
        #expect(throws: ReportError.self) { try Gate.decide(report: empty, policy: GateTests.policy, target: nil) }
        // An unreadable candidate may have no files, checks or known format: its error fails it (not an input error).
        let unreadable = tampered { $0 = CandidateReport(name: $0.name, format: CandidateFormat.unreadable, target: "cpu", error: "truncated") }
        #expect(try !Self.decide(unreadable).passed)
    }

    @Test("a candidate in a format its target does not run fails format-for-target")
    func formatForTarget() throws {
        let thresholds = GateThresholds(meanKLD: 0.04)
        let policy = GatePolicy(targets: Dictionary(uniqueKeysWithValues: HardwareTarget.allNames.map { ($0, thresholds) }))
        func failedChecks(_ format: String, _ target: String) throws -> [String] {
            var report = GateTests.report(GateTests.kld(0.01, 0.005, 0.015))
            report.candidates[0].format = format
            return try Self.decide(report, policy, target: target).failedStructuralChecks.map(\.name)
        }
        let gguf = try Self.decide(GateTests.report(GateTests.kld(0.01, 0.005, 0.015)), policy, target: "h100")
        #expect(!gguf.passed && gguf.failedStructuralChecks.map(\.name) == ["format-for-target"])
        #expect(gguf.failedStructuralChecks[0].detail == "h100 runs fp8; the candidate is gguf")
        #expect(try failedChecks("gguf", "cpu").isEmpty)
        #expect(try failedChecks("compressed-tensors", "l40s").isEmpty, "Ada also runs FP8")
        #expect(try failedChecks("awq", "l40s").isEmpty && failedChecks("gptq", "t4").isEmpty)
        #expect(try failedChecks("gptq", "h100") == ["format-for-target"])
        #expect(try failedChecks("safetensors", "cpu") == ["format-for-target"], "an unquantized checkpoint is no target's artefact")
    }
}

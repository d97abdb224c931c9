import Foundation
import QuantGateFormats
import QuantGateReport
import QuantGateTestSupport
import Testing

/// The gate's promise: pass only inside the threshold, inconclusive when the interval straddles it,
/// fail closed on anything missing or broken.
@Suite("Gate decisions")
struct GateTests {
    /// A valid report of one GGUF candidate; the task suites scored are those `metrics` has a task metric for.
    static func report(_ metrics: [MetricResult], target: String? = "cpu", error: String? = nil,
                       structural: [StructuralCheck] = [StructuralCheck(name: "finite-values", passed: true, detail: "all finite")]) -> EvalReport {
        let suites = metrics.compactMap { MetricID.suite(ofTaskMetric: $0.id) }
        let settings = EvalSettings(textName: "t", tokensHash: "h", protocolName: "llama.cpp", context: 512, stride: nil, windows: 1,
                                    tokensScored: 255, baselineStorage: "full-f16", bootstrapResamples: 10, seed: 0, confidence: 0.95,
                                    taskSuites: suites.map { SuiteSummary(name: $0, items: 4, sha256: String(repeating: "1", count: 64)) },
                                    smokePrompts: 0, smokeMaxTokens: 0)
        let candidate = CandidateReport(name: "m<&\">.gguf", format: "gguf", target: target,
                                        files: [ArtefactFile(path: "m.gguf", bytes: 1, sha256: String(repeating: "0", count: 64))],
                                        structural: structural, metrics: metrics, error: error)
        return EvalReport(toolVersion: "test", baseline: ModelSummary(name: "b", format: "safetensors", contentHash: "x"),
                          settings: settings, baselineResults: BaselineResults(perplexity: 10, perplexityStandardError: 0.1,
                                                                              taskAccuracy: Dictionary(uniqueKeysWithValues: suites.map { ($0, 0.5) }),
                                                                              smoke: nil),
                          candidates: [candidate])
    }

    /// The same thresholds for `cpu` (GGUF) and `h100` (FP8).
    static let policy = GatePolicy(targets: ["cpu", "h100"].reduce(into: [:]) {
        $0[$1] = GateThresholds(meanKLD: 0.04, top1AgreementPercent: 90, taskAccuracyDeltaPoints: -3)
    })

    /// Mean KLD as given, a passing top-1 agreement and a passing task suite `cloze`.
    static func kld(_ value: Double, _ lower: Double, _ upper: Double) -> [MetricResult] {
        [MetricResult(id: MetricID.meanKLD, value: value, lower: lower, upper: upper),
         MetricResult(id: MetricID.top1AgreementPercent, value: 95, lower: 94, upper: 96),
         MetricResult(id: MetricID.taskAccuracyDelta("cloze"), value: 0, lower: -1, upper: 1)]
    }

    @Test("interval inside, outside and across a max threshold")
    func maxThreshold() throws {
        func verdict(_ m: [MetricResult], _ policy: GatePolicy = GateTests.policy) throws -> MetricVerdict {
            try Gate.decide(report: Self.report(m), policy: policy, target: nil).candidates[0].verdicts.first { $0.metric == MetricID.meanKLD }!
        }
        #expect(try verdict(Self.kld(0.03, 0.02, 0.04)).verdict == .pass)          // upper on the threshold passes
        #expect(try verdict(Self.kld(0.05, 0.0401, 0.06)).verdict == .fail)
        let straddle = try verdict(Self.kld(0.039, 0.035, 0.045))
        #expect(straddle.verdict == .inconclusive && !straddle.countedAsPass)
        var lenient = Self.policy
        lenient.inconclusive = .pass
        #expect(try verdict(Self.kld(0.039, 0.035, 0.045), lenient).countedAsPass)
        #expect(try Gate.decide(report: Self.report(Self.kld(0.039, 0.035, 0.045)), policy: lenient, target: nil).passed)
        #expect(try !Gate.decide(report: Self.report(Self.kld(0.039, 0.035, 0.045)), policy: Self.policy, target: nil).passed)
    }

    @Test("min thresholds: top-1 and per-suite task overrides")
    func minThreshold() throws {
        var metrics = Self.kld(0.01, 0.005, 0.015)
        metrics[1] = MetricResult(id: MetricID.top1AgreementPercent, value: 90.5, lower: 89.8, upper: 91.2)
        metrics[2] = MetricResult(id: MetricID.taskAccuracyDelta("cloze"), value: -4, lower: -6, upper: -3.5)
        var result = try Gate.decide(report: Self.report(metrics), policy: Self.policy, target: nil).candidates[0]
        #expect(result.verdicts.first { $0.metric == MetricID.top1AgreementPercent }?.verdict == .inconclusive)
        #expect(result.verdicts.first { $0.metric == MetricID.taskAccuracyDelta("cloze") }?.verdict == .fail)
        var policy = Self.policy
        policy.targets["cpu"]!.taskOverrides["cloze"] = -8
        result = try Gate.decide(report: Self.report(metrics), policy: policy, target: nil).candidates[0]
        #expect(result.verdicts.first { $0.metric == MetricID.taskAccuracyDelta("cloze") }?.verdict == .pass)
    }

    @Test("fails closed: missing metric, candidate error, failed structural check, non-finite value")
    func failsClosed() throws {
        let missing = try Gate.decide(report: Self.report([MetricResult(id: MetricID.meanKLD, value: 0.001, lower: 0, upper: 0.002),
                                                           MetricResult(id: MetricID.taskAccuracyDelta("cloze"), value: 0, lower: -1, upper: 1)]),
                                      policy: Self.policy, target: nil)
        #expect(!missing.passed && missing.candidates[0].verdicts.contains { $0.message.contains("not measured") })
        #expect(try !Gate.decide(report: Self.report(Self.kld(0.01, 0.0, 0.02), error: "bad"), policy: Self.policy, target: nil).passed)
        let broken = StructuralCheck(name: "finite-values", passed: false, detail: "NaN in blk.0.ffn_up.weight")
        #expect(try !Gate.decide(report: Self.report(Self.kld(0.01, 0.0, 0.02), structural: [broken]), policy: Self.policy, target: nil).passed)
        #expect(try !Gate.decide(report: Self.report(Self.kld(.nan, 0.0, 0.02)), policy: Self.policy, target: nil).passed)
        var smokeRequired = Self.policy
        smokeRequired.targets["cpu"]!.smokeRequired = true
        #expect(try !Gate.decide(report: Self.report(Self.kld(0.01, 0.0, 0.02)), policy: smokeRequired, target: nil).passed)
    }

    @Test("usage errors: no target, unknown target, other schema")
    func usageErrors() {
        #expect(throws: ReportError.self) { try Gate.decide(report: Self.report(Self.kld(0.01, 0, 0.02), target: nil), policy: Self.policy, target: nil) }
        #expect(throws: ReportError.self) { try Gate.decide(report: Self.report(Self.kld(0.01, 0, 0.02)), policy: Self.policy, target: "tpu") }
        var other = Self.report(Self.kld(0.01, 0, 0.02))
        other.schema = "quantgate.eval-report/0"
        #expect(throws: ReportError.self) { try Gate.decide(report: other, policy: Self.policy, target: nil) }
    }

    @Test("JUnit XML counts failures and escapes names; Markdown names the failing metric")
    func renderers() throws {
        let report = Self.report(Self.kld(0.05, 0.045, 0.06))
        let gate = try Gate.decide(report: report, policy: Self.policy, target: nil)
        let xml = JUnitReport.render(gate, report)
        #expect(xml.contains("tests=\"3\" failures=\"1\""))
        #expect(xml.contains("classname=\"m&lt;&amp;&quot;&gt;.gguf\"") && !xml.contains("m<&"))
        let markdown = MarkdownReport.render(gate, report)
        #expect(markdown.contains("❌ FAIL") && markdown.contains("`mean_kld`"))
    }
}

import Foundation
import QuantGateReport
import QuantGateTestSupport
import Testing

/// The JSON report survives a round trip and names task metrics in a way the policy can parse back.
@Suite("Eval report coding")
struct EvalReportCodingTests {
    @Test("task metric identifiers round-trip to their suite name")
    func taskMetricIdentifiers() {
        #expect(MetricID.suite(ofTaskMetric: MetricID.taskAccuracyDelta("hamlet-cloze")) == "hamlet-cloze")
        #expect(MetricID.suite(ofTaskMetric: MetricID.meanKLD) == nil)
        #expect(MetricID.suite(ofTaskMetric: "task..accuracy_delta_pt") == nil)
    }

    @Test("a report written and read back is equal, byte-stable, and another schema is refused")
    func roundTrip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = GateTests.report(GateTests.kld(0.01, 0.005, 0.015))
        let path = directory.appendingPathComponent("report.json").path
        try Data(try ReportJSON.string(report).utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ReportJSON.read(path: path) == report)
        #expect(try ReportJSON.string(ReportJSON.read(path: path)) == ReportJSON.string(report))
        try Data(try ReportJSON.string(report).replacingOccurrences(of: EvalReport.currentSchema, with: "other/9").utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ReportError.self) { try ReportJSON.read(path: path) }
        #expect(throws: ReportError.self) { try ReportJSON.read(path: directory.appendingPathComponent("none.json").path) }
    }
}

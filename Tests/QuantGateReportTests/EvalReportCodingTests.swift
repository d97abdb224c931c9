import Foundation
import QuantGateReport
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
}

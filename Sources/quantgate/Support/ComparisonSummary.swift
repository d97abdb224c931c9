import Foundation
import QuantGateReport

/// The plain-text summary `eval` prints for a comparison: one block per candidate.
enum ComparisonSummary {
    static func render(_ report: EvalReport) -> String {
        let s = report.settings
        var lines = [
            "baseline \(report.baseline.name): perplexity \(String(format: "%.4f ± %.4f", report.baselineResults.perplexity, report.baselineResults.perplexityStandardError))"
                + " on \(s.textName) (\(s.protocolName) protocol, ctx \(s.context), \(s.tokensScored) tokens scored in \(s.windows) windows)",
        ]
        for (suite, accuracy) in report.baselineResults.taskAccuracy.sorted(by: { $0.key < $1.key }) {
            lines.append("  task \(suite): accuracy \(String(format: "%.1f %%", 100 * accuracy))")
        }
        for candidate in report.candidates {
            lines.append("")
            lines.append("candidate \(candidate.name) (\(candidate.format)\(candidate.quantization.map { " \($0)" } ?? ""))")
            if let error = candidate.error { lines.append("  error: \(error)") }
            for check in candidate.structural where !check.passed { lines.append("  structural check \(check.name) FAILED: \(check.detail)") }
            let width = (candidate.metrics.map(\.id.count).max() ?? 0) + 2
            for metric in candidate.metrics {
                var line = "  " + metric.id.padding(toLength: width, withPad: " ", startingAt: 0) + format(metric.value, metric.id)
                if let lower = metric.lower, let upper = metric.upper {
                    line += "  [\(format(lower, metric.id)), \(format(upper, metric.id))]"
                }
                lines.append(line)
            }
            if let smoke = candidate.smoke, !smoke.passed { lines.append("  smoke: " + smoke.problems.joined(separator: "; ")) }
        }
        lines.append("")
        lines.append("intervals: \(Int(100 * s.confidence)) % paired bootstrap, \(s.bootstrapResamples) resamples, seed \(s.seed)")
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double, _ id: String) -> String {
        id.hasSuffix("kld") ? String(format: "%.6f", value) : String(format: "%.3f", value)
    }
}

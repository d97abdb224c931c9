import Foundation

/// The gate as a Markdown summary, ready for a CI job summary (`$GITHUB_STEP_SUMMARY`, a merge-request note).
public enum MarkdownReport {
    public static func render(_ gate: GateResult, _ report: EvalReport) -> String {
        let s = report.settings
        var lines = ["## QuantGate: \(gate.passed ? "✅ PASS" : "❌ FAIL")", ""]
        lines.append("Baseline `\(report.baseline.name)`: perplexity \(fixed(report.baselineResults.perplexity, 3)) ± "
                     + "\(fixed(report.baselineResults.perplexityStandardError, 3)) on `\(s.textName)` (\(s.protocolName) protocol, "
                     + "ctx \(s.context), \(s.tokensScored) tokens scored in \(s.windows) windows).")
        lines.append("")
        for verdict in gate.candidates {
            guard let candidate = report.candidates.first(where: { $0.name == verdict.candidate && ($0.target ?? verdict.target) == verdict.target })
                ?? report.candidates.first(where: { $0.name == verdict.candidate }) else { continue }
            lines.append("### \(verdict.passed ? "✅" : "❌") `\(candidate.name)` for `\(verdict.target)`"
                         + (candidate.quantization.map { " (\(candidate.format) \($0))" } ?? " (\(candidate.format))"))
            lines.append("")
            if let error = verdict.error { lines += ["**Error:** \(error)", ""] }
            for check in verdict.failedStructuralChecks { lines.append("- ❌ structural check `\(check.name)`: \(check.detail)") }
            if !verdict.failedStructuralChecks.isEmpty { lines.append("") }
            if !verdict.verdicts.isEmpty {
                lines += ["| metric | baseline | candidate | value [95 % interval] | threshold | verdict |", "|---|---|---|---|---|---|"]
                for v in verdict.verdicts {
                    let metric = candidate.metric(v.metric)
                    let value = v.value.map { Gate.format($0) } ?? "not measured"
                    let interval = v.lower.map { " [\(Gate.format($0)), \(Gate.format(v.upper ?? $0))]" } ?? ""
                    let mark = v.verdict == .pass ? "✅ pass" : v.verdict == .fail ? "❌ fail" : (v.countedAsPass ? "⚠️ inconclusive (passes)" : "⚠️ inconclusive (fails)")
                    lines.append("| `\(v.metric)` | \(metric?.baseline.map { Gate.format($0) } ?? "") | \(metric?.candidate.map { Gate.format($0) } ?? "") "
                                 + "| \(value)\(interval) | \(v.comparison) \(Gate.format(v.threshold)) | \(mark) |")
                }
                lines.append("")
            }
            if !candidate.tasks.isEmpty {
                lines += ["| task | items | baseline acc | candidate acc | Δ pt | flips (→wrong / →right) | McNemar p |", "|---|---|---|---|---|---|---|"]
                for t in candidate.tasks {
                    let delta = candidate.metric(MetricID.taskAccuracyDelta(t.suite))
                    lines.append("| \(t.suite) | \(t.items) | \(fixed(100 * t.baselineAccuracy, 2)) ± \(fixed(100 * t.baselineStandardError, 2)) % "
                                 + "| \(fixed(100 * t.candidateAccuracy, 2)) ± \(fixed(100 * t.candidateStandardError, 2)) % "
                                 + "| \(delta.map { "\(fixed($0.value, 2)) [\(fixed($0.lower ?? $0.value, 2)), \(fixed($0.upper ?? $0.value, 2))]" } ?? "") "
                                 + "| \(t.flipsToWrong) / \(t.flipsToRight) | \(Gate.format(t.mcnemarP)) |")
                }
                lines.append("")
            }
        }
        lines.append("Intervals: \(Int((100 * s.confidence).rounded())) % paired bootstrap over windows and items, "
                     + "\(s.bootstrapResamples) resamples, seed \(s.seed). Baseline distributions stored as \(s.baselineStorage). "
                     + "QuantGate \(report.toolVersion).")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}

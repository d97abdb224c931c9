import Foundation
import QuantGateOutput
import QuantGateReport

/// Writes a run's report directory through ``OutputDestination`` (whole, or not at all): report.json, and
/// with a gate junit.xml, summary.md, and manifest.json only when every candidate passed.
enum ReportWriter {
    static func write(report: EvalReport, gate: GateResult?, to destination: OutputDestination) throws {
        try destination.write { directory in
            let root = URL(fileURLWithPath: directory)
            func write(_ text: String, _ name: String) throws { try Data(text.utf8).write(to: root.appendingPathComponent(name)) }
            try write(try ReportJSON.string(report), "report.json")
            guard let gate else { return }
            try write(JUnitReport.render(gate, report), "junit.xml")
            try write(MarkdownReport.render(gate, report), "summary.md")
            if gate.passed && !report.candidates.contains(where: \.isUnreadable), let manifest = PromotionManifest.make(report: report, gate: gate) {
                try write(try manifest.json(), "manifest.json")
            }
        }
    }
}

/// The gate's verdicts as plain text: one line per candidate and target, then what failed.
enum GateSummary {
    static func render(_ gate: GateResult) -> String {
        var lines = ["", "gate: \(gate.passed ? "PASS" : "FAIL")"]
        for candidate in gate.candidates {
            lines.append("  \(candidate.candidate) for \(candidate.target): \(candidate.passed ? "pass" : "FAIL")")
            if let error = candidate.error { lines.append("    error: \(error)") }
            for check in candidate.failedStructuralChecks { lines.append("    structural check \(check.name): \(check.detail)") }
            for verdict in candidate.verdicts where !verdict.countedAsPass || verdict.verdict != .pass {
                lines.append("    \(verdict.verdict.rawValue): \(verdict.message)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

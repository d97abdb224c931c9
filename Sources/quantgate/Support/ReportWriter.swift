import Foundation
import QuantGateReport

/// Writes a run's report files into one directory, each atomically: report.json, junit.xml,
/// summary.md, and manifest.json only for a passing gate (a stale manifest is removed, never left
/// to promote artefacts this run did not pass).
enum ReportWriter {
    static func write(report: EvalReport, gate: GateResult?, to directory: String) throws {
        let root = URL(fileURLWithPath: directory)
        func path(_ name: String) -> String { root.appendingPathComponent(name).path }
        try AtomicFile.write(try ReportJSON.string(report), to: path("report.json"))
        guard let gate else { return }
        try AtomicFile.write(JUnitReport.render(gate, report), to: path("junit.xml"))
        try AtomicFile.write(MarkdownReport.render(gate, report), to: path("summary.md"))
        let manifestPath = path("manifest.json")
        let unreadable = report.candidates.contains(where: \.isUnreadable)
        if gate.passed && !unreadable, let manifest = PromotionManifest.make(report: report, gate: gate) {
            try AtomicFile.write(try manifest.json(), to: manifestPath)
        } else if FileManager.default.fileExists(atPath: manifestPath) {
            try FileManager.default.removeItem(atPath: manifestPath)
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

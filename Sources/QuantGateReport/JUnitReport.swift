import Foundation

/// The gate as JUnit XML, which CI systems (GitHub Actions, GitLab, Jenkins) show as test results:
/// one `<testsuite>` per target, one `<testcase>` per gated metric per candidate (plus one per failed
/// structural check and one for an unreadable candidate); anything counted as failed has a `<failure>`.
public enum JUnitReport {
    public static func render(_ gate: GateResult, _ report: EvalReport) -> String {
        var suites: [String: [String]] = [:]
        var counts: [String: (tests: Int, failures: Int)] = [:]
        var order: [String] = []
        for candidate in gate.candidates {
            let target = candidate.target
            if suites[target] == nil { order.append(target); suites[target] = [] }
            func testCase(_ name: String, failure: String?) {
                var line = "    <testcase classname=\"\(escape(candidate.candidate))\" name=\"\(escape(name))\""
                if let failure {
                    line += ">\n      <failure message=\"\(escape(failure))\"/>\n    </testcase>"
                } else {
                    line += "/>"
                }
                suites[target]!.append(line)
                counts[target, default: (0, 0)].tests += 1
                if failure != nil { counts[target, default: (0, 0)].failures += 1 }
            }
            if let error = candidate.error { testCase("artefact", failure: error) }
            for check in candidate.failedStructuralChecks { testCase("structural.\(check.name)", failure: check.detail) }
            for verdict in candidate.verdicts { testCase(verdict.metric, failure: verdict.countedAsPass ? nil : verdict.message) }
        }
        let total = counts.values.reduce(into: (0, 0)) { $0.0 += $1.tests; $0.1 += $1.failures }
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<testsuites name=\"quantgate\" tests=\"\(total.0)\" failures=\"\(total.1)\">"]
        for target in order {
            let c = counts[target] ?? (0, 0)
            lines.append("  <testsuite name=\"quantgate.\(escape(target))\" tests=\"\(c.tests)\" failures=\"\(c.failures)\" errors=\"0\">")
            lines += suites[target] ?? []
            lines.append("  </testsuite>")
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// XML attribute escaping (and control characters XML 1.0 cannot carry become spaces).
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default: out.unicodeScalars.append(scalar.value < 0x20 ? " " : scalar)
            }
        }
        return out
    }
}

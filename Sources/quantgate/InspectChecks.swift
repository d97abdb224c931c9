import ArgumentParser
import QuantGateAssessment
import QuantGateReport

/// The structural checks `inspect` runs on an artefact (GGUF, FP8, GPTQ, AWQ): the gate's own checks of a
/// candidate (``StructuralChecks/artefact(_:)``), without the comparisons with a baseline.
enum InspectChecks {
    /// Opens `path` as the gate opens a candidate and checks it.
    /// - Throws: the reader's error when the artefact cannot be read (exit 2).
    static func run(_ path: String) throws -> [StructuralCheck] {
        StructuralChecks.artefact(try ModelArtefact(path: path))
    }

    /// The report's section: a heading, then one line per check.
    static func lines(_ checks: [StructuralCheck]) -> [String] {
        let width = checks.map(\.name.count).max() ?? 0
        return ["", "Structural checks: " + (checks.allSatisfy(\.passed) ? "OK" : "FAILED")]
            + checks.map { "  \($0.passed ? "ok    " : "FAILED") \($0.name.padded(to: width))  \($0.detail)" }
    }

    /// Exit 1, naming every failed check on stderr, when one failed.
    static func conclude(_ checks: [StructuralCheck], path: String) throws {
        let failed = checks.filter { !$0.passed }
        guard !failed.isEmpty else { return }
        for check in failed { ErrorReporter.report("\(path): structural check \(check.name) failed: \(check.detail)") }
        throw ExitCode(ExitStatus.gateFailed.rawValue)
    }
}

import ArgumentParser
import Foundation
import QuantGateOutput
import QuantGateReport

/// The flags that turn measurements into a decision and files: `eval`, `gate` and `pipeline` share them.
struct GateOptions: ParsableArguments {
    @Flag(help: "Apply the gate: exit 0 when every candidate passes, 1 when one fails.")
    var gate = false

    @Option(help: "The hardware target whose gate applies (cpu, h100, a100, l40s, …; default: the one each artefact records).")
    var target: String?

    @Option(help: "A gate policy file (YAML or JSON) overriding the built-in gates; see quantgate gate --print-default-policy.")
    var policy: String?

    @Option(help: "Write report.json, junit.xml, summary.md (and manifest.json when every candidate passes) into this new directory (an existing one needs --force, and only one QuantGate wrote is replaced).")
    var report: String?

    /// Reads the policy and checks the report directory now, so a bad policy file or an existing directory
    /// fails before any model runs. `replace`: `--force` (replace a report directory QuantGate wrote).
    func prepare(replace: Bool) throws -> GateStage {
        try GateStage(gate: gate, target: target, policyFile: policy, reportDirectory: report, replace: replace)
    }
}

/// Writes the reports, applies the gate and sets the exit status, failing closed.
struct GateStage {
    /// Whether to decide (else only write and print the measurements).
    let gate: Bool
    /// The target for every candidate (nil: each candidate's own).
    let target: String?
    let policy: GatePolicy
    /// Where report.json, junit.xml, summary.md and manifest.json go (nil: nowhere).
    let reportDirectory: OutputDestination?

    /// Reads `policyFile` (the built-in gates when nil) and checks that the policy gates `target`.
    /// `replace`: replace a report directory an earlier run wrote (else an existing one is refused, here).
    init(gate: Bool, target: String?, policyFile: String?, reportDirectory: String?, replace: Bool = false) throws {
        self.gate = gate
        self.target = target
        policy = try policyFile.map { try GatePolicy.load(path: $0) } ?? GatePolicy.defaults
        self.reportDirectory = try reportDirectory.map { try OutputDestination($0, kind: .directory, replace: replace) }
        try self.reportDirectory?.checkWritable()
        if let target { _ = try policy.thresholds(forTarget: target) }
    }

    /// Validates and decides (when gating), then writes and prints what `report` holds; throws `ExitCode`
    /// 1 for a failed gate and 2 when a candidate could not be read (no manifest is written then). When no
    /// decision can be made (a candidate without a target, an inconsistent report), report.json is still
    /// written, so the measurements are not lost, and the error is thrown.
    /// - Parameter source: the report file it was read from, for messages about an inconsistent report; nil
    ///   for a report this run measured, whose inconsistency is a bug (an internal error, exit 3).
    func conclude(report: EvalReport, printJSON: Bool, source: String? = nil) throws {
        let decision: GateResult?
        do {
            if source == nil {
                do { try report.validate(source: "the eval report") } catch {
                    throw InternalError(description: "the evaluator wrote an inconsistent report (a bug, please report it): \(error)")
                }
            }
            decision = gate ? try Gate.decide(report: report, policy: policy, target: target, source: source ?? "the eval report") : nil
        } catch {
            if let reportDirectory { try? ReportWriter.write(report: report, gate: nil, to: reportDirectory) }
            throw error
        }
        if let reportDirectory {
            try ReportWriter.write(report: report, gate: decision, to: reportDirectory)
        }
        if printJSON {
            try JSONOutput.print(report)
        } else {
            print(ComparisonSummary.render(report))
            if let decision { print(GateSummary.render(decision)) }
        }
        let unreadable = report.candidates.filter(\.isUnreadable)
        if !unreadable.isEmpty {
            for candidate in unreadable { ErrorReporter.report(candidate.error ?? "\(candidate.name): unreadable") }
            throw ExitCode(ExitStatus.usageOrInputError.rawValue)
        }
        if let decision, !decision.passed { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }
}

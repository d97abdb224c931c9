import ArgumentParser
import Foundation
import QuantGateReport

/// `quantgate gate --policy P REPORT.json`: decide again from a saved report, without running a model.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Apply a gate policy to a saved eval report: exit 0 pass, 1 fail, 2 input error.",
        discussion: """
            A metric passes only when its whole confidence interval is inside the threshold; one whose \
            interval straddles it is inconclusive and fails unless the policy says `inconclusive: pass`. \
            A candidate that could not be read, failed a structural check, is in a format its target does not \
            run (format-for-target), or lacks a gated metric (a task threshold with no suite scored included) fails.
            The report is validated first: an inconsistent one (unknown format or target, a metric listed twice, \
            an interval missing or inverted, a readable candidate without files or structural checks) is an \
            input error naming the file, the candidate and the field.
            A policy names only known targets and keys.
            Without --policy the built-in gates of TARGETS.md apply; --print-default-policy writes them as YAML \
            (a starting point for your own file: keys a target omits keep their default).
            """)

    @Argument(help: "A report.json written by quantgate eval --report or quantgate pipeline.")
    var reportFile: String?

    @Option(help: "A gate policy file (YAML or JSON).")
    var policy: String?

    @Option(help: "Apply this target's gate to every candidate (default: each candidate's recorded target).")
    var target: String?

    @Option(help: "Write report.json, junit.xml, summary.md (and manifest.json when all pass) into this new directory.")
    var report: String?

    @Flag(help: "Replace an existing --report directory that QuantGate wrote.")
    var force = false

    @Flag(name: .customLong("print-default-policy"), help: "Print the built-in policy as YAML and exit.")
    var printDefaultPolicy = false

    func validate() throws {
        guard printDefaultPolicy || reportFile != nil else { throw ValidationError("give the report.json to gate") }
    }

    func run() throws {
        if printDefaultPolicy {
            print(GatePolicy.defaults.yaml(), terminator: "")
            return
        }
        let saved = try ReportJSON.read(path: reportFile!)
        try GateStage(gate: true, target: target, policyFile: policy, reportDirectory: report, replace: force)
            .conclude(report: saved, printJSON: false, source: reportFile!)
    }
}

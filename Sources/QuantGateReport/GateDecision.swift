import Foundation
import QuantGateFormats

/// A metric's standing against its threshold.
public enum Verdict: String, Codable, Sendable {
    case pass
    case fail
    /// The interval straddles the threshold: the data cannot tell.
    case inconclusive
}

/// One gated metric of one candidate.
public struct MetricVerdict: Codable, Sendable, Equatable {
    public var metric: String
    /// `<=` (the metric must stay at or below the threshold) or `>=`.
    public var comparison: String
    public var threshold: Double
    public var value: Double?
    public var lower: Double?
    public var upper: Double?
    public var verdict: Verdict
    /// Whether the verdict counts as a pass (an inconclusive one does when the policy says so).
    public var countedAsPass: Bool
    /// One line naming the metric, its value and interval, and the threshold.
    public var message: String
}

/// One candidate's gate for one target.
public struct CandidateVerdict: Codable, Sendable, Equatable {
    public var candidate: String
    public var target: String
    public var verdicts: [MetricVerdict]
    public var failedStructuralChecks: [StructuralCheck]
    public var error: String?
    public var passed: Bool
}

/// The decision over a whole report.
public struct GateResult: Codable, Sendable, Equatable {
    public var candidates: [CandidateVerdict]
    /// True when there is at least one candidate and every one passed.
    public var passed: Bool
}

/// Applies a ``GatePolicy`` to an ``EvalReport``. Fails closed: an unreadable candidate, a failed
/// structural check, a format the target does not run, a gated metric that was not measured or is not
/// finite — each fails.
public enum Gate {
    /// - Parameters:
    ///   - target: the target for every candidate; nil: each candidate's recorded target.
    ///   - source: what messages name as the report (its file).
    /// - Throws: ``ReportError`` for a report that fails ``EvalReport/validate(source:)``, a candidate
    ///   without a target, or a target the policy or the target table does not know (input errors, not
    ///   gate failures).
    public static func decide(report: EvalReport, policy: GatePolicy, target: String?, source: String = "the eval report") throws -> GateResult {
        try report.validate(source: source)
        let suites = report.settings.taskSuites.map(\.name)
        let verdicts = try report.candidates.map { candidate -> CandidateVerdict in
            guard let name = target ?? candidate.target else {
                throw ReportError("\(candidate.name): no target recorded; pass --target (one of \(HardwareTarget.allNames.joined(separator: ", ")))")
            }
            let thresholds = try policy.thresholds(forTarget: name)
            guard let row = HardwareTarget.named(name) else {
                throw ReportError("\(name) is not a known target (\(HardwareTarget.allNames.joined(separator: ", ")))")
            }
            return decide(candidate, target: name, runs: row, suites: suites, thresholds: thresholds)
        }
        return GateResult(candidates: verdicts, passed: !verdicts.isEmpty && verdicts.allSatisfy(\.passed))
    }

    /// One candidate's verdict. `suites` are the task suites the run scored (the report's settings): each
    /// is judged, as is each suite a per-suite threshold names, and a task threshold with no suite at all
    /// is a failing `not measured` verdict.
    static func decide(_ candidate: CandidateReport, target: String, runs row: HardwareTarget, suites: [String],
                       thresholds t: GateThresholds) -> CandidateVerdict {
        let inconclusivePasses = t.inconclusive == .pass
        var verdicts: [MetricVerdict] = []
        func judge(_ id: String, _ threshold: Double?, atMost: Bool) {
            guard let threshold else { return }
            verdicts.append(verdict(candidate.metric(id), id: id, threshold: threshold, atMost: atMost, inconclusivePasses: inconclusivePasses))
        }
        judge(MetricID.perplexityDeltaPercent, t.perplexityDeltaPercent, atMost: true)
        judge(MetricID.meanKLD, t.meanKLD, atMost: true)
        judge(MetricID.p99KLD, t.p99KLD, atMost: true)
        judge(MetricID.top1AgreementPercent, t.top1AgreementPercent, atMost: false)
        let judgedSuites = Set(suites).union(t.taskOverrides.keys)
        for suite in judgedSuites.sorted() {
            judge(MetricID.taskAccuracyDelta(suite), t.taskOverrides[suite] ?? t.taskAccuracyDeltaPoints, atMost: false)
        }
        if judgedSuites.isEmpty, let threshold = t.taskAccuracyDeltaPoints {
            // No suite scored at all: the threshold has nothing to pass on.
            verdicts.append(verdict(nil, id: MetricID.everyTaskAccuracyDelta, threshold: threshold, atMost: false,
                                    inconclusivePasses: inconclusivePasses))
        }
        if t.smokeRequired == true {
            let smoke = candidate.metric(MetricID.smoke)
            let passed = smoke?.value == 1
            let problems = candidate.smoke?.problems.joined(separator: "; ") ?? ""
            verdicts.append(MetricVerdict(
                metric: MetricID.smoke, comparison: ">=", threshold: 1, value: smoke?.value, lower: nil, upper: nil,
                verdict: passed ? .pass : .fail, countedAsPass: passed,
                message: smoke == nil ? "smoke: not measured" : passed ? "smoke: passed" : "smoke: failed (\(problems))"))
        }
        var checks = candidate.structural
        // An unreadable candidate's format may be unknown; its error fails it already.
        if let format = CandidateFormat(rawValue: candidate.format) { checks.append(format.check(for: row, named: target)) }
        let failedChecks = checks.filter { !$0.passed }
        let passed = candidate.error == nil && failedChecks.isEmpty && verdicts.allSatisfy(\.countedAsPass)
        return CandidateVerdict(candidate: candidate.name, target: target, verdicts: verdicts,
                                failedStructuralChecks: failedChecks, error: candidate.error, passed: passed)
    }

    /// Pass when the whole interval is on the right side of the threshold, fail when the whole interval
    /// is on the wrong side, inconclusive otherwise. A metric without an interval is its own interval; the
    /// value always counts as part of it (a point outside its own interval cannot make a metric pass).
    static func verdict(_ metric: MetricResult?, id: String, threshold: Double, atMost: Bool, inconclusivePasses: Bool) -> MetricVerdict {
        let comparison = atMost ? "<=" : ">="
        guard let metric else {
            return MetricVerdict(metric: id, comparison: comparison, threshold: threshold, value: nil, lower: nil, upper: nil,
                                 verdict: .fail, countedAsPass: false, message: "\(id): not measured (threshold \(comparison) \(threshold))")
        }
        let lower = metric.lower ?? metric.value, upper = metric.upper ?? metric.value
        let (low, high) = (min(lower, metric.value), max(upper, metric.value))
        let verdict: Verdict
        if ![metric.value, lower, upper].allSatisfy(\.isFinite) {
            verdict = .fail
        } else if atMost {
            verdict = high <= threshold ? .pass : low > threshold ? .fail : .inconclusive
        } else {
            verdict = low >= threshold ? .pass : high < threshold ? .fail : .inconclusive
        }
        let counted = verdict == .pass || (verdict == .inconclusive && inconclusivePasses)
        let interval = metric.lower == nil ? "" : " [\(format(lower)), \(format(upper))]"
        let message = "\(id) \(format(metric.value))\(interval) \(verdict == .pass ? "within" : verdict == .fail ? "outside" : "straddles") "
            + "threshold \(comparison) \(format(threshold))" + (verdict == .inconclusive ? (counted ? " (inconclusive, counted as pass by policy)" : " (inconclusive, counted as fail)") : "")
        return MetricVerdict(metric: id, comparison: comparison, threshold: threshold, value: metric.value, lower: metric.lower,
                             upper: metric.upper, verdict: verdict, countedAsPass: counted, message: message)
    }

    /// Numbers as the reports print them: 5 significant digits.
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.5g", value)
    }
}

extension MetricID {
    /// The verdict a task-accuracy threshold gets when no task suite was scored at all (never a measured metric).
    public static let everyTaskAccuracyDelta = "task.*.accuracy_delta_pt"
}

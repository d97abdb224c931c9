import QuantGateFormats

/// Checking that a report is whole and self-consistent before any gate is decided on it.
extension EvalReport {
    /// Checks that nothing in the report contradicts itself or what the evaluator writes: the schema;
    /// each task suite of the settings listed once, the baseline's accuracies for exactly those suites;
    /// at least one candidate; per candidate a known format (`unknown` only for one that could not be
    /// read), a known target or none, and for one without an error its files and structural checks; each
    /// metric known (a task metric only for a suite of the settings) and listed once, with both interval
    /// bounds or neither, an interval wherever the evaluator always writes one, and lower ≤ upper; the
    /// smoke metric 0 or 1 and agreeing with the smoke statistics; task results for suites of the settings,
    /// once each. Non-finite values are allowed: a broken candidate measures them, and the gate fails them.
    /// - Throws: ``ReportError`` naming `source`, the candidate and the field of each problem, one per line.
    public func validate(source: String) throws {
        var problems: [String] = []
        if schema != EvalReport.currentSchema { problems.append("schema: \(schema) is not \(EvalReport.currentSchema)") }
        let suites = settings.taskSuites.map(\.name)
        for suite in Set(suites) where suites.filter({ $0 == suite }).count > 1 {
            problems.append("settings.taskSuites: \(suite) is listed more than once")
        }
        if Set(baselineResults.taskAccuracy.keys) != Set(suites) {
            problems.append("baselineResults.taskAccuracy: suites \(baselineResults.taskAccuracy.keys.sorted()) are not settings.taskSuites \(suites.sorted())")
        }
        if candidates.isEmpty { problems.append("candidates: none listed") }
        for (index, candidate) in candidates.enumerated() {
            let label = "candidates[\(index)] (\(candidate.name)\(candidate.target.map { " for \($0)" } ?? ""))"
            problems += candidate.problems(suites: Set(suites)).map { "\(label): \($0)" }
        }
        guard problems.isEmpty else { throw ReportError(problems.map { "\(source): \($0)" }.joined(separator: "\n")) }
    }
}

extension CandidateReport {
    /// What contradicts itself in this candidate, each as `field: reason`.
    func problems(suites: Set<String>) -> [String] {
        var problems: [String] = []
        if CandidateFormat(rawValue: format) == nil && !(isUnreadable && format == CandidateFormat.unreadable) {
            let known = CandidateFormat.allCases.map(\.rawValue).joined(separator: ", ")
            problems.append("format: \(format) is not a format QuantGate evaluates (\(known))")
        }
        if let target, HardwareTarget.named(target) == nil {
            problems.append("target: \(target) is not a known target (\(HardwareTarget.allNames.joined(separator: ", ")))")
        }
        if error == nil {
            if files.isEmpty { problems.append("files: none listed, yet the candidate has no error") }
            if structural.isEmpty { problems.append("structural: no check listed, yet the candidate has no error") }
        }
        var seen = Set<String>()
        for metric in metrics {
            let field = "metrics.\(metric.id)"
            guard seen.insert(metric.id).inserted else {
                problems.append("\(field): listed more than once")
                continue
            }
            let suite = MetricID.suite(ofTaskMetric: metric.id)
            if let suite, !suites.contains(suite) {
                problems.append("\(field): suite \(suite) is not in settings.taskSuites")
            } else if suite == nil && !MetricID.withInterval.contains(metric.id) && !MetricID.withoutInterval.contains(metric.id) {
                problems.append("\(field): not a metric QuantGate measures")
            }
            switch (metric.lower, metric.upper) {
            case (nil, nil):
                if suite != nil || MetricID.withInterval.contains(metric.id) { problems.append("\(field): no interval (lower, upper)") }
            case let (lower?, upper?):
                if lower > upper { problems.append("\(field): interval [\(lower), \(upper)] is inverted (lower above upper)") }
            default:
                problems.append("\(field): only one bound of its interval (lower, upper)")
            }
            if metric.id == MetricID.smoke {
                if metric.value != 0 && metric.value != 1 {
                    problems.append("\(field): \(metric.value) is neither 1 (passed) nor 0 (failed)")
                } else if let smoke, smoke.passed != (metric.value == 1) {
                    problems.append("\(field): \(metric.value) contradicts smoke.passed \(smoke.passed)")
                }
            }
        }
        var scored = Set<String>()
        for (index, task) in tasks.enumerated() {
            if !suites.contains(task.suite) {
                problems.append("tasks[\(index)].suite: \(task.suite) is not in settings.taskSuites")
            } else if !scored.insert(task.suite).inserted {
                problems.append("tasks[\(index)].suite: \(task.suite) is listed more than once")
            }
        }
        return problems
    }
}

extension MetricID {
    /// The fixed metrics the evaluator always writes with a confidence interval (task metrics have one too).
    static let withInterval: Set<String> = [perplexityDeltaPercent, meanKLD, p99KLD, top1AgreementPercent, tokenFlipsPercent]
    /// The fixed metrics that are single figures.
    static let withoutInterval: Set<String> = [maxKLD, smoke]
}

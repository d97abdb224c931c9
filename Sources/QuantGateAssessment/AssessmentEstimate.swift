import QuantGateEval
import QuantGateModel
import QuantGateTensors

extension AssessmentPlan {
    /// What scoring `candidates` (paths) against a baseline of configuration `c` will cost on `windows` (the
    /// `--dry-run` of `eval` with candidates and of the pipeline's scoring): the stages `check`, `baseline` and one
    /// per candidate (``Assessor/stageName(candidate:)``) that a run records. Each candidate is costed as a pass of
    /// the baseline's shapes (its weights dequantized as they are read); task suites and the smoke test are listed
    /// as not estimated.
    public func estimate(windows: [ScoringWindow], configuration c: LlamaConfiguration, largestTensorBytes: Int,
                         candidates: [String], rates: MachineRates) -> RunEstimate {
        let scored = windows.reduce(0) { $0 + $1.scoredCount }
        let storage = BaselineDistributions.Storage.choose(tokens: scored, vocabularySize: c.vocabSize, budgetBytes: storageBudgetBytes)
        let held = storage.bytes(tokens: scored, vocabularySize: c.vocabSize)
        let pass = windows.map { (tokens: $0.tokens.count, scored: $0.scoredCount) }
        var stages: [StageEstimate] = [
            .sourceCheck(c, largestTensorBytes: largestTensorBytes, rates: rates),
            .modelPass("baseline", c, windows: pass, rates: rates, extraBytes: held, basis: "\(storage.label) distributions kept"),
        ]
        for candidate in candidates {
            stages.append(.modelPass(Assessor.stageName(candidate: candidate), c, windows: pass, rates: rates, extraBytes: held,
                                     basis: "KL against the baseline's distributions"))
        }
        var left: [String] = []
        if !suites.isEmpty {
            left.append("task suites (\(suites.reduce(0) { $0 + $1.suite.items.count }) items, for the baseline and each candidate)")
        }
        if let smoke {
            left.append("the smoke test (\(smoke.prompts.count) prompts × \(smoke.maxTokens) tokens, for the baseline and each candidate)")
        }
        return RunEstimate(stages: stages, notIncluded: left)
    }
}

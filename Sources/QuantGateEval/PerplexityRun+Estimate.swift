import QuantGateModel
import QuantGateTensors

extension PerplexityRun {
    /// What `eval MODEL` will cost on `windows` (its `--dry-run`): the stages `check` and `perplexity` a run
    /// records, for a model of configuration `c` whose largest stored tensor holds `largestTensorBytes`.
    public static func estimate(windows: [ScoringWindow], configuration c: LlamaConfiguration, largestTensorBytes: Int,
                                rates: MachineRates) -> RunEstimate {
        RunEstimate(stages: [
            .sourceCheck(c, largestTensorBytes: largestTensorBytes, rates: rates),
            .modelPass("perplexity", c, windows: windows.map { ($0.tokens.count, $0.scoredCount) }, rates: rates,
                       basis: "the head on scored rows only"),
        ])
    }
}

import Foundation
import QuantGateEval
import QuantGateModel
import QuantGateOutput
import QuantGateReport
import QuantGateTensors

/// What an assessment measures, the same for the baseline and every candidate.
public struct AssessmentPlan: Sendable {
    public var textName: String
    public var text: String
    public var perplexity: PerplexityRun
    public var suites: [(suite: TaskSuite, sha256: String)]
    public var smoke: SmokeTest?
    public var bootstrap: PairedBootstrap
    /// Where the baseline's distributions are cached between runs (nil: kept in memory only).
    public var baselineCachePath: String?
    /// Replace a file at ``baselineCachePath`` that is not a QuantGate baseline file (`--force`).
    public var replaceBaselineCache = false
    /// Full f16 rows while they fit this many bytes; the top 256 entries per token beyond.
    public var storageBudgetBytes: Int

    public init(textName: String, text: String, perplexity: PerplexityRun, suites: [(suite: TaskSuite, sha256: String)],
                smoke: SmokeTest?, bootstrap: PairedBootstrap, baselineCachePath: String?, replaceBaselineCache: Bool = false,
                storageBudgetBytes: Int = 1 << 30) {
        self.textName = textName
        self.text = text
        self.perplexity = perplexity
        self.suites = suites
        self.smoke = smoke
        self.bootstrap = bootstrap
        self.baselineCachePath = baselineCachePath
        self.replaceBaselineCache = replaceBaselineCache
        self.storageBudgetBytes = storageBudgetBytes
    }
}

/// A candidate to assess: its path and the target it is meant for (nil: the one it records, if any).
public struct CandidateRequest: Sendable {
    public var path: String
    public var target: String?

    public init(path: String, target: String? = nil) {
        self.path = path
        self.target = target
    }
}

/// Scores candidates against a baseline on identical tokens. Before any forward pass: the baseline's
/// weights are validated (a source checkpoint: ``ModelDirectory/validate(progress:)``) and every candidate
/// is read, hashed and structurally checked. Then one baseline pass (or its cache), and per candidate the
/// distribution metrics, the task suites and the smoke test.
public struct Assessor {
    public var plan: AssessmentPlan
    /// Stage messages (one line each) for a progress display.
    public var log: (String) -> Void
    /// Per-step progress within a stage: (stage, done, total).
    public var progress: (String, Int, Int) -> Void

    public init(plan: AssessmentPlan, log: @escaping (String) -> Void = { _ in },
                progress: @escaping (String, Int, Int) -> Void = { _, _, _ in }) {
        self.plan = plan
        self.log = log
        self.progress = progress
    }

    /// Runs the whole assessment. Input errors about the baseline, the settings or a baseline cache path
    /// that may not be written (``BaselineCache/checkWritable(path:replace:)``) throw, and so do
    /// candidates that cannot be read (``AssessmentError/unreadableCandidates(_:)``), all before any
    /// forward pass; a candidate that cannot be run is reported with its `error` set (and fails any gate).
    public func run(baselinePath: String, candidates: [CandidateRequest]) throws -> EvalReport {
        if let path = plan.baselineCachePath { try BaselineCache.checkWritable(path: path, replace: plan.replaceBaselineCache) }
        let baseline = try ModelArtefact(path: baselinePath)
        if baseline.source != nil { log("baseline \(baseline.name): checking the weights") }
        try RunFacts.stage("check") { try baseline.validateSource { done, total, _ in progress("check", done, total) } }
        let windows = try plan.perplexity.plan(text: plan.text, name: plan.textName, tokenizer: baseline.tokenizer,
                                               configuration: baseline.configuration)
        let checked = candidates.map { check($0, baseline: baseline) }
        let unreadable = checked.compactMap(\.unreadable)
        guard unreadable.isEmpty else { throw AssessmentError.unreadableCandidates(unreadable) }
        let tokensHash = BaselineCache.tokensHash(windows)
        let scored = windows.reduce(0) { $0 + $1.scoredCount }
        let storage = BaselineDistributions.Storage.choose(tokens: scored, vocabularySize: baseline.configuration.vocabSize,
                                                           budgetBytes: plan.storageBudgetBytes)
        log("baseline \(baseline.name): hashing weights")
        let summary = try baseline.summary()
        let baselineModel = try baseline.model()
        let (distributions, baselineTasks, baselineSmoke) = try RunFacts.stage("baseline") {
            let distributions = try baselineDistributions(model: baselineModel, modelHash: summary.contentHash, windows: windows,
                                                          tokensHash: tokensHash, storage: storage)
            var tasks: [[TaskOutcome]] = []
            for (suite, _) in plan.suites {
                log("baseline: task suite \(suite.name) (\(suite.items.count) items)")
                tasks.append(try TaskScorer(model: baselineModel, tokenizer: baseline.tokenizer).score(suite) {
                    progress("tasks \(suite.name)", $0, $1)
                })
            }
            var smokeMeasurement: SmokeTest.Measurement?
            if let smoke = plan.smoke {
                log("baseline: smoke test (\(smoke.prompts.count) prompts)")
                smokeMeasurement = try SmokeTest.measure(smoke.generate(model: baselineModel, tokenizer: baseline.tokenizer), judge: baselineModel)
            }
            return (distributions, tasks, smokeMeasurement)
        }
        let (perplexity, standardError) = Self.perplexity(distributions.targetLogProbs)
        guard perplexity.isFinite else { throw AssessmentError.nonFinitePerplexity(path: baselinePath, value: perplexity) }
        let naturalNLL = -distributions.targetLogProbs.reduce(0.0) { $0 + Double($1) } / Double(max(1, distributions.tokenCount))
        let context = CandidateContext(baseline: baseline, baselineModel: baselineModel, windows: windows,
                                       distributions: distributions, baselineTasks: baselineTasks,
                                       baselineSmoke: baselineSmoke, naturalNLL: naturalNLL)
        let reports = zip(checked, candidates).map { candidate, request in
            RunFacts.stage(Self.stageName(candidate: request.path)) { measure(candidate, context) }
        }
        let settings = EvalSettings(
            textName: plan.textName, tokensHash: tokensHash, protocolName: plan.perplexity.protocolKind.rawValue,
            context: plan.perplexity.context, stride: plan.perplexity.protocolKind == .hf ? (plan.perplexity.stride ?? plan.perplexity.context) : nil,
            windows: windows.count, tokensScored: scored, baselineStorage: storage.label,
            bootstrapResamples: plan.bootstrap.resamples, seed: plan.bootstrap.seed, confidence: plan.bootstrap.confidence,
            taskSuites: plan.suites.map { SuiteSummary(name: $0.suite.name, items: $0.suite.items.count, sha256: $0.sha256) },
            smokePrompts: plan.smoke?.prompts.count ?? 0, smokeMaxTokens: plan.smoke?.maxTokens ?? 0)
        let taskAccuracy = Dictionary(uniqueKeysWithValues: zip(plan.suites, baselineTasks).map { entry in
            (entry.0.suite.name, Double(entry.1.filter(\.correct).count) / Double(max(1, entry.1.count)))
        })
        return EvalReport(
            toolVersion: QuantGateVersion.string, baseline: summary, settings: settings,
            baselineResults: BaselineResults(perplexity: perplexity, perplexityStandardError: standardError, taskAccuracy: taskAccuracy,
                                             smoke: baselineSmoke.map { Self.statistics($0, problems: []) }),
            candidates: reports)
    }

    /// The name under which a candidate's measurement is recorded in `run.stages` (and estimated).
    public static func stageName(candidate path: String) -> String {
        "candidate " + URL(fileURLWithPath: path).lastPathComponent
    }

    /// Everything about the baseline that each candidate is compared with.
    struct CandidateContext {
        let baseline: ModelArtefact
        let baselineModel: LlamaModel
        let windows: [ScoringWindow]
        let distributions: BaselineDistributions
        let baselineTasks: [[TaskOutcome]]
        let baselineSmoke: SmokeTest.Measurement?
        let naturalNLL: Double
    }

    private func baselineDistributions(model: LlamaModel, modelHash: String, windows: [ScoringWindow], tokensHash: String,
                                       storage: BaselineDistributions.Storage) throws -> BaselineDistributions {
        let protocolName = plan.perplexity.protocolKind.rawValue
        let key = BaselineCache.key(modelHash: modelHash, tokensHash: tokensHash, protocolName: protocolName,
                                    context: plan.perplexity.context, stride: plan.perplexity.stride, storage: storage)
        if let path = plan.baselineCachePath {
            let (cached, problem) = BaselineCache.load(path: path, key: key)
            if let cached {
                log("baseline: distributions from the cache \(path)")
                return cached
            }
            if let problem { log("baseline cache \(path): \(problem); recomputing") }
        }
        log("baseline: \(windows.count) windows, storing \(storage.label) distributions")
        var distributions = BaselineDistributions(storage: storage, vocabularySize: model.configuration.vocabSize)
        try model.scoredLogits(windows, progress: { progress("baseline", $0, $1) }) { index, logits in
            distributions.append(logits: logits, window: windows[index])
        }
        if let path = plan.baselineCachePath {
            try BaselineCache.save(distributions, key: key, path: path, replace: plan.replaceBaselineCache)
            log("baseline: distributions cached in \(path)")
        }
        return distributions
    }

    /// A candidate read, hashed and structurally checked; or why it cannot be read.
    struct CheckedCandidate {
        let artefact: ModelArtefact?
        var report: CandidateReport
        /// The reader's message when the candidate cannot be read.
        var unreadable: String? { artefact == nil ? report.error : nil }
    }

    /// Opens `request`, hashes its files and runs the structural checks: everything before a forward pass.
    private func check(_ request: CandidateRequest, baseline: ModelArtefact) -> CheckedCandidate {
        let name = URL(fileURLWithPath: request.path).lastPathComponent
        let artefact: ModelArtefact
        var report: CandidateReport
        do {
            artefact = try ModelArtefact(path: request.path)
            report = CandidateReport(name: artefact.name, format: artefact.format.rawValue, quantization: artefact.quantization,
                                     target: request.target ?? artefact.recordedTarget,
                                     calibrationDataHash: artefact.calibrationDataHash)
            log("candidate \(artefact.name): hashing files and structural checks")
            report.files = try artefact.files()
        } catch {
            log("candidate \(name): \(OutputError.plainReason(error))")
            return CheckedCandidate(artefact: nil, report: CandidateReport(name: name, format: "unknown", target: request.target,
                                                                           error: OutputError.plainReason(error)))
        }
        report.structural = StructuralChecks.run(candidate: artefact, baseline: baseline, probeText: plan.text)
        if let shape = report.structural.first(where: { $0.name == "shape" }), !shape.passed {
            report.error = "cannot be compared with the baseline: \(shape.detail)"
        }
        return CheckedCandidate(artefact: artefact, report: report)
    }

    /// The metrics, task suites and smoke test of a checked candidate (none when it cannot be compared).
    private func measure(_ candidate: CheckedCandidate, _ context: CandidateContext) -> CandidateReport {
        var report = candidate.report
        guard let artefact = candidate.artefact, report.error == nil else { return report }
        do {
            let model = try artefact.model()
            log("candidate \(artefact.name): distribution metrics on \(context.windows.count) windows")
            let comparison = try DistributionComparison.run(candidate: model, windows: context.windows, baseline: context.distributions) {
                progress("compare \(artefact.name)", $0, $1)
            }
            report.metrics = Self.metrics(comparison.summary(bootstrap: plan.bootstrap))
            for ((suite, _), baselineOutcomes) in zip(plan.suites, context.baselineTasks) {
                log("candidate \(artefact.name): task suite \(suite.name)")
                let outcomes = try TaskScorer(model: model, tokenizer: context.baseline.tokenizer).score(suite) {
                    progress("tasks \(suite.name)", $0, $1)
                }
                let paired = TaskComparison(baseline: baselineOutcomes, candidate: outcomes, bootstrap: plan.bootstrap)
                report.tasks.append(Self.taskResult(suite.name, paired))
                report.metrics.append(MetricResult(id: MetricID.taskAccuracyDelta(suite.name), value: paired.deltaPoints.value,
                                                   lower: paired.deltaPoints.lower, upper: paired.deltaPoints.upper,
                                                   baseline: 100 * paired.baselineAccuracy, candidate: 100 * paired.candidateAccuracy))
            }
            if let smoke = plan.smoke, let baselineSmoke = context.baselineSmoke {
                log("candidate \(artefact.name): smoke test")
                // Prompts are encoded with the baseline's tokenizer: the same ids for every model.
                let generations = try smoke.generate(model: model, tokenizer: context.baseline.tokenizer)
                let measured = try SmokeTest.measure(generations, judge: context.baselineModel)
                let problems = SmokeTest.problems(candidate: measured, baseline: baselineSmoke, naturalNLL: context.naturalNLL)
                report.smoke = Self.statistics(measured, problems: problems)
                report.metrics.append(MetricResult(id: MetricID.smoke, value: problems.isEmpty ? 1 : 0))
            }
        } catch {
            log("candidate \(artefact.name): \(OutputError.plainReason(error))")
            report.error = OutputError.plainReason(error)
        }
        return report
    }

    static func metrics(_ s: DistributionSummary) -> [MetricResult] {
        func metric(_ id: String, _ e: Estimate, baseline: Double? = nil, candidate: Double? = nil) -> MetricResult {
            MetricResult(id: id, value: e.value, lower: e.lower, upper: e.upper, baseline: baseline, candidate: candidate)
        }
        return [
            metric(MetricID.perplexityDeltaPercent, s.perplexityDeltaPercent, baseline: s.baselinePerplexity, candidate: s.candidatePerplexity),
            metric(MetricID.meanKLD, s.meanKLD),
            metric(MetricID.p99KLD, s.p99KLD),
            MetricResult(id: MetricID.maxKLD, value: s.maxKLD),
            metric(MetricID.top1AgreementPercent, s.top1AgreementPercent),
            metric(MetricID.tokenFlipsPercent, s.flipsPercent),
        ]
    }

    static func taskResult(_ suite: String, _ p: TaskComparison) -> TaskResult {
        TaskResult(suite: suite, items: p.items, baselineAccuracy: p.baselineAccuracy, candidateAccuracy: p.candidateAccuracy,
                   baselineStandardError: p.baselineStandardError, candidateStandardError: p.candidateStandardError,
                   baselineAccuracyNorm: p.baselineAccuracyNorm, candidateAccuracyNorm: p.candidateAccuracyNorm,
                   flipsToWrong: p.flipsToWrong, flipsToRight: p.flipsToRight, mcnemarP: p.mcnemarP)
    }

    static func statistics(_ m: SmokeTest.Measurement, problems: [String]) -> SmokeStatistics {
        SmokeStatistics(prompts: m.prompts, nonEmpty: m.nonEmpty, stoppedAtEOS: m.stoppedAtEOS, repetition: m.repetition,
                        baselineNLL: m.judgeNLL, passed: problems.isEmpty, problems: problems)
    }

    /// Perplexity and `llama-perplexity`'s standard error from per-token log-probabilities.
    static func perplexity(_ logProbs: [Float]) -> (Double, Double) {
        var sum = 0.0, squares = 0.0
        for lp in logProbs {
            sum -= Double(lp)
            squares += Double(lp) * Double(lp)
        }
        let (_, perplexity, standardError) = PerplexityEvaluator.summary(nllSum: sum, squares: squares, count: logProbs.count)
        return (perplexity, standardError)
    }
}

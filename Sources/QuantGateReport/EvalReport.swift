/// Everything one `quantgate eval` run measured: the baseline, the settings every model shared, and
/// one ``CandidateReport`` per artefact. Serialised as the versioned JSON report (`schema`), which
/// `quantgate gate` reads back; keys are camelCase, numbers are plain JSON numbers.
///
/// The report holds measurements only. Thresholds and verdicts live in ``GateResult``, so one
/// report can be gated against several policies without re-running any model.
public struct EvalReport: Codable, Sendable, Equatable {
    /// The schema identifier this build writes and reads.
    public static let currentSchema = "quantgate.eval-report/1"

    public var schema: String
    public var toolVersion: String
    public var baseline: ModelSummary
    public var settings: EvalSettings
    /// The baseline's own figures (perplexity, task accuracies, smoke outputs' statistics).
    public var baselineResults: BaselineResults
    public var candidates: [CandidateReport]

    public init(schema: String = EvalReport.currentSchema, toolVersion: String, baseline: ModelSummary,
                settings: EvalSettings, baselineResults: BaselineResults, candidates: [CandidateReport]) {
        self.schema = schema
        self.toolVersion = toolVersion
        self.baseline = baseline
        self.settings = settings
        self.baselineResults = baselineResults
        self.candidates = candidates
    }
}

/// A model as the report names it: never a local path, only the file or directory name.
public struct ModelSummary: Codable, Sendable, Equatable {
    /// The file or directory name (no parent directories).
    public var name: String
    /// `safetensors`, `gguf`, … (how the model was read).
    public var format: String
    /// SHA-256 over the model's weights and configuration, as calibration's model fingerprint computes it.
    public var contentHash: String

    public init(name: String, format: String, contentHash: String) {
        self.name = name
        self.format = format
        self.contentHash = contentHash
    }
}

/// What every model in the run was measured on, identically.
public struct EvalSettings: Codable, Sendable, Equatable {
    /// The evaluation text's file name or built-in data set name.
    public var textName: String
    /// SHA-256 of the scored windows' token ids (the exact tokens every model saw).
    public var tokensHash: String
    /// `hf` or `llama.cpp` (see `PerplexityProtocol`).
    public var protocolName: String
    public var context: Int
    public var stride: Int?
    public var windows: Int
    public var tokensScored: Int
    /// How the baseline's distributions are kept: `full-f16` or `top-K-f16` (K entries plus the tail mass).
    public var baselineStorage: String
    public var bootstrapResamples: Int
    public var seed: UInt64
    /// Two-sided confidence level of every interval (0.95).
    public var confidence: Double
    public var taskSuites: [SuiteSummary]
    public var smokePrompts: Int
    public var smokeMaxTokens: Int

    public init(textName: String, tokensHash: String, protocolName: String, context: Int, stride: Int?, windows: Int,
                tokensScored: Int, baselineStorage: String, bootstrapResamples: Int, seed: UInt64, confidence: Double,
                taskSuites: [SuiteSummary], smokePrompts: Int, smokeMaxTokens: Int) {
        self.textName = textName
        self.tokensHash = tokensHash
        self.protocolName = protocolName
        self.context = context
        self.stride = stride
        self.windows = windows
        self.tokensScored = tokensScored
        self.baselineStorage = baselineStorage
        self.bootstrapResamples = bootstrapResamples
        self.seed = seed
        self.confidence = confidence
        self.taskSuites = taskSuites
        self.smokePrompts = smokePrompts
        self.smokeMaxTokens = smokeMaxTokens
    }
}

/// One task suite as scored: its name, size and content hash.
public struct SuiteSummary: Codable, Sendable, Equatable {
    public var name: String
    public var items: Int
    /// SHA-256 of the suite file's bytes.
    public var sha256: String

    public init(name: String, items: Int, sha256: String) {
        self.name = name
        self.items = items
        self.sha256 = sha256
    }
}

/// The baseline's own measurements, against which candidates are compared.
public struct BaselineResults: Codable, Sendable, Equatable {
    public var perplexity: Double
    /// `llama-perplexity`'s standard error of the perplexity.
    public var perplexityStandardError: Double
    /// Accuracy (fraction) per suite name.
    public var taskAccuracy: [String: Double]
    public var smoke: SmokeStatistics?

    public init(perplexity: Double, perplexityStandardError: Double, taskAccuracy: [String: Double], smoke: SmokeStatistics?) {
        self.perplexity = perplexity
        self.perplexityStandardError = perplexityStandardError
        self.taskAccuracy = taskAccuracy
        self.smoke = smoke
    }
}

/// One artefact's measurements against the baseline.
public struct CandidateReport: Codable, Sendable, Equatable {
    /// The artefact's file or directory name.
    public var name: String
    /// `gguf`, … (detected from the files).
    public var format: String
    /// The quantization as the artefact declares it (`Q8_0`, `Q4_K_M`, …), when it does.
    public var quantization: String?
    /// The hardware target the artefact is meant for (`cpu`, `h100`, …), when known.
    public var target: String?
    /// Every file of the artefact with its size and SHA-256, paths relative to the folder holding the
    /// artefact (its file name, or `NAME/FILE` for a directory), as ``ArtefactFiles/list(path:)`` gives them.
    public var files: [ArtefactFile]
    /// The calibration data hash the artefact records, when it records one.
    public var calibrationDataHash: String?
    /// Checks on the files themselves, made before any forward pass.
    public var structural: [StructuralCheck]
    /// Every measured figure, distribution metrics, task deltas and the smoke test, by ``MetricID``.
    public var metrics: [MetricResult]
    /// Per-suite detail.
    public var tasks: [TaskResult]
    public var smoke: SmokeStatistics?
    /// Set when the artefact could not be read or evaluated; such a candidate always fails a gate.
    public var error: String?

    public init(name: String, format: String, quantization: String? = nil, target: String? = nil, files: [ArtefactFile] = [],
                calibrationDataHash: String? = nil, structural: [StructuralCheck] = [], metrics: [MetricResult] = [],
                tasks: [TaskResult] = [], smoke: SmokeStatistics? = nil, error: String? = nil) {
        self.name = name
        self.format = format
        self.quantization = quantization
        self.target = target
        self.files = files
        self.calibrationDataHash = calibrationDataHash
        self.structural = structural
        self.metrics = metrics
        self.tasks = tasks
        self.smoke = smoke
        self.error = error
    }

    /// Whether the artefact could not even be read (an input error: no files hashed, nothing measured).
    public var isUnreadable: Bool { error != nil && files.isEmpty }

    /// The metric with identifier `id`, if measured.
    public func metric(_ id: String) -> MetricResult? { metrics.first { $0.id == id } }
}

/// One file of an artefact.
public struct ArtefactFile: Codable, Sendable, Equatable {
    /// Path relative to the folder holding the artefact: the file name for a single-file artefact,
    /// `NAME/FILE` for a file of directory artefact `NAME`.
    public var path: String
    public var bytes: Int64
    public var sha256: String

    public init(path: String, bytes: Int64, sha256: String) {
        self.path = path
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// A check on an artefact's files (tensor types, finite scales, tokenizer identity, size band…).
public struct StructuralCheck: Codable, Sendable, Equatable {
    /// A stable identifier, e.g. `quantized-tensors`, `finite-values`, `tokenizer`.
    public var name: String
    public var passed: Bool
    /// What was found, naming the tensor or field at fault when the check failed.
    public var detail: String

    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// Stable metric identifiers, used by reports and policy files alike.
public enum MetricID {
    /// Candidate perplexity relative to the baseline's, in percent (paired bootstrap interval over windows).
    public static let perplexityDeltaPercent = "perplexity_delta_pct"
    /// Mean KL(baseline ‖ candidate) per scored token, nats.
    public static let meanKLD = "mean_kld"
    /// 99th percentile of the per-token KL divergence.
    public static let p99KLD = "p99_kld"
    /// Largest per-token KL divergence (reported, not gated by default).
    public static let maxKLD = "max_kld"
    /// Share of scored tokens whose top-1 prediction equals the baseline's, percent.
    public static let top1AgreementPercent = "top1_agreement_pct"
    /// Share of scored tokens whose top-1 correctness changed (right ↔ wrong), percent.
    public static let tokenFlipsPercent = "token_flips_pct"
    /// The generation smoke test: 1 passed, 0 failed.
    public static let smoke = "smoke"

    /// Accuracy change of a task suite in percentage points (paired interval over items).
    public static func taskAccuracyDelta(_ suite: String) -> String { "task.\(suite).accuracy_delta_pt" }

    /// The suite name inside a ``taskAccuracyDelta(_:)`` identifier, or nil for other metrics.
    public static func suite(ofTaskMetric id: String) -> String? {
        let prefix = "task.", suffix = ".accuracy_delta_pt"
        guard id.hasPrefix(prefix), id.hasSuffix(suffix), id.count > prefix.count + suffix.count else { return nil }
        return String(id.dropFirst(prefix.count).dropLast(suffix.count))
    }
}

/// One measured figure with its confidence interval (when it has one).
public struct MetricResult: Codable, Sendable, Equatable {
    /// A ``MetricID`` value.
    public var id: String
    /// The point estimate.
    public var value: Double
    /// The interval's bounds (nil for a figure without one, e.g. the smoke test).
    public var lower: Double?
    public var upper: Double?
    /// The baseline's and candidate's own values where that is meaningful (perplexity, accuracy).
    public var baseline: Double?
    public var candidate: Double?

    public init(id: String, value: Double, lower: Double? = nil, upper: Double? = nil,
                baseline: Double? = nil, candidate: Double? = nil) {
        self.id = id
        self.value = value
        self.lower = lower
        self.upper = upper
        self.baseline = baseline
        self.candidate = candidate
    }
}

/// One task suite's paired comparison.
public struct TaskResult: Codable, Sendable, Equatable {
    public var suite: String
    public var items: Int
    /// Accuracy (fraction) of the baseline and the candidate, and their standard errors sqrt(p(1−p)/(n−1)).
    public var baselineAccuracy: Double
    public var candidateAccuracy: Double
    public var baselineStandardError: Double
    public var candidateStandardError: Double
    /// Length-normalised accuracy (multiple-choice suites only), as lm-evaluation-harness's `acc_norm`.
    public var baselineAccuracyNorm: Double?
    public var candidateAccuracyNorm: Double?
    /// Items right for the baseline and wrong for the candidate, and the reverse.
    public var flipsToWrong: Int
    public var flipsToRight: Int
    /// Exact two-sided McNemar p-value over the flips.
    public var mcnemarP: Double

    public init(suite: String, items: Int, baselineAccuracy: Double, candidateAccuracy: Double,
                baselineStandardError: Double, candidateStandardError: Double, baselineAccuracyNorm: Double?,
                candidateAccuracyNorm: Double?, flipsToWrong: Int, flipsToRight: Int, mcnemarP: Double) {
        self.suite = suite
        self.items = items
        self.baselineAccuracy = baselineAccuracy
        self.candidateAccuracy = candidateAccuracy
        self.baselineStandardError = baselineStandardError
        self.candidateStandardError = candidateStandardError
        self.baselineAccuracyNorm = baselineAccuracyNorm
        self.candidateAccuracyNorm = candidateAccuracyNorm
        self.flipsToWrong = flipsToWrong
        self.flipsToRight = flipsToRight
        self.mcnemarP = mcnemarP
    }
}

/// Statistics of one model's greedy generations on the smoke prompts.
public struct SmokeStatistics: Codable, Sendable, Equatable {
    public var prompts: Int
    /// Generations with at least one token before EOS.
    public var nonEmpty: Int
    /// Generations that ended with EOS within the token limit.
    public var stoppedAtEOS: Int
    /// Mean share of repeated 4-grams among a generation's token 4-grams.
    public var repetition: Double
    /// Mean negative log-likelihood (nats per token) of the generations under the baseline model.
    public var baselineNLL: Double
    /// Whether the smoke test passed (always true for the baseline itself).
    public var passed: Bool
    /// The reasons it failed, empty when it passed.
    public var problems: [String]

    public init(prompts: Int, nonEmpty: Int, stoppedAtEOS: Int, repetition: Double, baselineNLL: Double,
                passed: Bool, problems: [String]) {
        self.prompts = prompts
        self.nonEmpty = nonEmpty
        self.stoppedAtEOS = stoppedAtEOS
        self.repetition = repetition
        self.baselineNLL = baselineNLL
        self.passed = passed
        self.problems = problems
    }
}

/// The artefact a hardware target runs.
public enum ArtefactKind: String, Sendable, Codable, CaseIterable {
    /// FP8 E4M3 W8A8, compressed-tensors layout (vLLM), for Hopper.
    case fp8
    /// AWQ INT4, group 128, zero point, GEMM layout (AutoAWQ / vLLM / transformers), for Ada.
    case awq
    /// GPTQ INT4, group 128, static act-order (`desc_act: false`), symmetric (GPTQModel / vLLM / transformers), for Ampere and older.
    case gptq
    /// GGUF k-quants (llama.cpp, Ollama, LM Studio), for CPUs.
    case gguf
}

/// What a deployment tolerates, relative to the unquantized baseline measured in the same run.
/// Every field is optional: an absent threshold is not gated.
public struct GateThresholds: Sendable, Equatable, Codable {
    /// Largest perplexity increase, percent.
    public var perplexityDeltaPercent: Double?
    /// Largest mean KL(baseline ‖ candidate) per token, nats.
    public var meanKLD: Double?
    /// Largest 99th percentile of the per-token KL divergence.
    public var p99KLD: Double?
    /// Smallest share of tokens with the baseline's top-1 prediction, percent.
    public var top1AgreementPercent: Double?
    /// Smallest accuracy change of any task suite, percentage points (negative: a loss allowed).
    public var taskAccuracyDeltaPoints: Double?
    /// Per-suite replacements for ``taskAccuracyDeltaPoints``.
    public var taskOverrides: [String: Double]
    /// Whether the generation smoke test must pass.
    public var smokeRequired: Bool?
    /// How an interval straddling a threshold counts (nil: the policy's default).
    public var inconclusive: InconclusiveRule?

    public init(perplexityDeltaPercent: Double? = nil, meanKLD: Double? = nil, p99KLD: Double? = nil,
                top1AgreementPercent: Double? = nil, taskAccuracyDeltaPoints: Double? = nil, taskOverrides: [String: Double] = [:],
                smokeRequired: Bool? = nil, inconclusive: InconclusiveRule? = nil) {
        self.perplexityDeltaPercent = perplexityDeltaPercent
        self.meanKLD = meanKLD
        self.p99KLD = p99KLD
        self.top1AgreementPercent = top1AgreementPercent
        self.taskAccuracyDeltaPoints = taskAccuracyDeltaPoints
        self.taskOverrides = taskOverrides
        self.smokeRequired = smokeRequired
        self.inconclusive = inconclusive
    }

    /// `self` with every field `other` sets replaced by `other`'s (task overrides merged).
    public func overridden(by other: GateThresholds) -> GateThresholds {
        GateThresholds(
            perplexityDeltaPercent: other.perplexityDeltaPercent ?? perplexityDeltaPercent, meanKLD: other.meanKLD ?? meanKLD,
            p99KLD: other.p99KLD ?? p99KLD, top1AgreementPercent: other.top1AgreementPercent ?? top1AgreementPercent,
            taskAccuracyDeltaPoints: other.taskAccuracyDeltaPoints ?? taskAccuracyDeltaPoints,
            taskOverrides: taskOverrides.merging(other.taskOverrides) { $1 },
            smokeRequired: other.smokeRequired ?? smokeRequired, inconclusive: other.inconclusive ?? inconclusive)
    }
}

/// What a metric whose confidence interval straddles its threshold counts as.
public enum InconclusiveRule: String, Sendable, Codable, CaseIterable {
    case fail
    case pass
}

/// A row of the hardware-target table (docs: TARGETS.md): the names users type, the chips, the
/// default artefact and the default gate. The table is data so a policy file can add or override.
public struct HardwareTarget: Sendable, Equatable {
    public var names: [String]
    public var chips: String
    public var artefact: ArtefactKind
    public var gate: GateThresholds
    /// Other artefacts this hardware runs well, chosen with `--format` (Ada's FP8 tensor cores).
    public var alsoRuns: [ArtefactKind] = []

    /// The shipped table. Perplexity, mean KLD, top-1 and task thresholds are TARGETS.md's; the p99 KLD
    /// threshold, which TARGETS.md does not give, is 10 × the mean-KLD threshold (our choice: a tail
    /// ten times the mean is where single-token damage shows without the mean moving).
    public static let all: [HardwareTarget] = [
        HardwareTarget(names: ["h100", "h200", "gh200", "h20"], chips: "Hopper (sm_90)", artefact: .fp8,
                       gate: gate(ppl: 1.0, kld: 0.005, top1: 96, task: -1.0)),
        HardwareTarget(names: ["l40s", "l4", "rtx4090", "rtx6000-ada"], chips: "Ada Lovelace (sm_89)", artefact: .awq,
                       gate: gate(ppl: 3.0, kld: 0.04, top1: 90, task: -2.0), alsoRuns: [.fp8]),
        HardwareTarget(names: ["a100", "a10", "a10g", "rtx3090", "a6000"], chips: "Ampere (sm_80/86)", artefact: .gptq,
                       gate: gate(ppl: 6.0, kld: 0.06, top1: 88, task: -3.0)),
        HardwareTarget(names: ["v100", "t4"], chips: "Volta / Turing", artefact: .gptq,
                       gate: gate(ppl: 6.0, kld: 0.06, top1: 88, task: -3.0)),
        HardwareTarget(names: ["cpu", "x86", "arm64", "apple-m"], chips: "CPUs (llama.cpp, Ollama, LM Studio)", artefact: .gguf,
                       gate: gate(ppl: 5.0, kld: 0.04, top1: 90, task: -3.0)),
    ]

    private static func gate(ppl: Double, kld: Double, top1: Double, task: Double) -> GateThresholds {
        GateThresholds(perplexityDeltaPercent: ppl, meanKLD: kld, p99KLD: 10 * kld, top1AgreementPercent: top1,
                       taskAccuracyDeltaPoints: task, smokeRequired: true)
    }

    /// The row naming `name` (case-insensitive).
    public static func named(_ name: String) -> HardwareTarget? {
        all.first { $0.names.contains(name.lowercased()) }
    }

    /// Every target name, in table order.
    public static var allNames: [String] { all.flatMap(\.names) }
}

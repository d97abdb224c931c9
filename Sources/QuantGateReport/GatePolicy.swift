import Foundation
import QuantGateFormats

/// Gate thresholds per hardware target, from a policy file or the built-in table (TARGETS.md).
///
/// File format (YAML; JSON is read by the same loader), snake_case keys:
/// ```yaml
/// version: 1
/// inconclusive: fail            # or pass: what an interval straddling a threshold counts as
/// targets:
///   cpu:
///     perplexity_delta_pct: 5.0   # max
///     mean_kld: 0.04              # max
///     p99_kld: 0.4                # max
///     top1_agreement_pct: 90      # min
///     task_accuracy_delta_pt: -3  # min, every suite
///     tasks: {hamlet-cloze: -5}   # min, per suite
///     smoke: required             # or optional
///     inconclusive: pass          # per-target override
/// ```
/// Every target name must be one of the table's (``HardwareTarget/allNames``), and every key one of
/// the above: a misspelt name or key is refused, never ignored. A target keeps its default for every
/// key its entry omits.
public struct GatePolicy: Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    /// What an interval straddling its threshold counts as, where a target does not say.
    public var inconclusive: InconclusiveRule
    /// Thresholds per target name (lowercase), already merged with the built-in defaults.
    public var targets: [String: GateThresholds]

    public init(version: Int = GatePolicy.currentVersion, inconclusive: InconclusiveRule = .fail, targets: [String: GateThresholds]) {
        self.version = version
        self.inconclusive = inconclusive
        self.targets = targets
    }

    /// The built-in gates: every name of every row of ``HardwareTarget/all``.
    public static let defaults = GatePolicy(targets: Dictionary(uniqueKeysWithValues: HardwareTarget.all.flatMap { row in
        row.names.map { ($0, row.gate) }
    }))

    /// The thresholds for `target`, with the inconclusive rule resolved.
    /// - Throws: ``ReportError`` naming the known targets when the policy has no such target.
    public func thresholds(forTarget target: String) throws -> GateThresholds {
        guard var thresholds = targets[target.lowercased()] else {
            throw ReportError("no gate for target \(target) (known: \(targets.keys.sorted().joined(separator: ", ")))")
        }
        thresholds.inconclusive = thresholds.inconclusive ?? inconclusive
        return thresholds
    }
}

/// How AWQ quantizes (arXiv:2306.00978; AutoAWQ's defaults, ../shared/design/ALGORITHMS.md §2).
public struct AWQSettings: Sendable, Equatable {
    /// Input columns per scale/zero group (AutoAWQ's `q_group_size`).
    public var groupSize: Int
    /// Search each scaling group's activation-aware scales (false: round to nearest on the same grid).
    public var searchScales: Bool
    /// α candidates `k / grid` for `k = 0 ..< grid` (AutoAWQ's `n_grid`, 20: α ∈ {0, 0.05, …, 0.95}).
    public var grid: Int
    /// AutoAWQ's "duo" scaling `mean|x|^α / mean|ŵ|^(1−α)` (else the paper's `mean|x|^α`).
    public var duoScaling: Bool
    /// Search a clamp bound per (output row, group) for every Linear but q and k.
    public var clip: Bool
    /// Clamp bounds `max|w| · (1 − i / clipGrid)` for `i = 0 ..< clipSteps` (AutoAWQ's `n_grid` 20 and
    /// `max_shrink` 0.5 × 20: 1.00 down to 0.55).
    public var clipGrid: Int, clipSteps: Int
    /// About this many calibration tokens (every `tokens / clipTokens`-th) measure each clip candidate
    /// (AutoAWQ's `n_sample_token`).
    public var clipTokens: Int

    /// - Precondition: `groupSize`, `grid`, `clipGrid`, `clipSteps` and `clipTokens` positive.
    public init(groupSize: Int = 128, searchScales: Bool = true, grid: Int = 20, duoScaling: Bool = true, clip: Bool = true,
                clipGrid: Int = 20, clipSteps: Int = 10, clipTokens: Int = 512) {
        precondition(groupSize > 0 && grid > 0 && clipGrid > 0 && clipSteps > 0 && clipTokens > 0, "AWQ settings must be positive")
        (self.groupSize, self.searchScales, self.grid, self.duoScaling) = (groupSize, searchScales, grid, duoScaling)
        (self.clip, self.clipGrid, self.clipSteps, self.clipTokens) = (clip, clipGrid, clipSteps, clipTokens)
    }

    /// Round to nearest on AWQ's grid: no scales, no clipping (the baseline AWQ must beat).
    public static func roundToNearest(groupSize: Int) -> AWQSettings {
        AWQSettings(groupSize: groupSize, searchScales: false, clip: false)
    }
}

/// Why AWQ could not quantize a model.
public enum AWQError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A Linear's shape does not fit the GEMM layout (inputs a multiple of the group, outputs of 8).
    case shapeNotPackable(module: String, shape: [Int], groupSize: Int)
    /// A scale search produced no finite loss (NaN or infinite outputs for every candidate).
    case noFiniteLoss(module: String)
    /// The exporter was given no result for a planned module, or no bias for a quantized Linear's stored bias.
    case missingResult(module: String)

    public var description: String {
        switch self {
        case .shapeNotPackable(let module, let shape, let group):
            "\(module): shape \(shape) does not fit AWQ's GEMM layout with group size \(group) (inputs must be a multiple of the group size, outputs of 8)"
        case .noFiniteLoss(let module):
            "\(module): every AWQ scale candidate gave NaN or infinite outputs on the calibration data"
        case .missingResult(let module): "\(module): no AWQ result to write"
        }
    }
}

import Foundation
import QuantGateTensors

/// A seeded paired bootstrap: resamples units (evaluation windows, task items) with replacement, the
/// same draw for baseline and candidate, and reads percentile intervals off the resampled statistic.
///
/// Deterministic: the draws depend only on `seed`, the resample count and the number of units.
public struct PairedBootstrap: Sendable {
    public var resamples: Int
    public var seed: UInt64
    /// Two-sided confidence level.
    public var confidence: Double

    public init(resamples: Int = 1000, seed: UInt64 = 0, confidence: Double = 0.95) {
        precondition(resamples >= 1 && confidence > 0 && confidence < 1)
        self.resamples = resamples
        self.seed = seed
        self.confidence = confidence
    }

    /// How often each of `units` units is drawn in each resample: `resamples` arrays of `units` counts.
    public func draws(units: Int) -> [[Int32]] {
        var random = SplitMix64(seed: seed ^ (UInt64(units) &* 0x9E37_79B9_7F4A_7C15))
        return (0..<resamples).map { _ in
            var counts = [Int32](repeating: 0, count: units)
            for _ in 0..<units { counts[Int(random.next() % UInt64(units))] += 1 }
            return counts
        }
    }

    /// The percentile interval of `statistic` over the resamples of `units` units.
    public func interval(units: Int, _ statistic: ([Int32]) -> Double) -> (lower: Double, upper: Double) {
        guard units > 0 else { return (.nan, .nan) }
        return interval(draws: draws(units: units), statistic)
    }

    /// The percentile interval of `statistic` over `draws` (from ``draws(units:)``), so that several
    /// statistics of one comparison share one set of resamples without drawing it again.
    public func interval(draws: [[Int32]], _ statistic: ([Int32]) -> Double) -> (lower: Double, upper: Double) {
        let values = draws.map(statistic).sorted()
        let alpha = (1 - confidence) / 2
        return (Quantile.sorted(values, alpha), Quantile.sorted(values, 1 - alpha))
    }
}

/// Quantiles with linear interpolation between order statistics (numpy's default).
public enum Quantile {
    /// The `q` quantile of ascending `values`.
    public static func sorted(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let position = q * Double(values.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, values.count - 1)
        return values[below] + (values[above] - values[below]) * (position - Double(below))
    }

    /// The `q` quantile of unsorted `values` (selection, O(n) expected; `values` is reordered).
    public static func select(_ values: inout [Float], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let position = q * Double(values.count - 1)
        let below = Int(position.rounded(.down))
        let low = Double(kth(&values, below))
        guard below + 1 < values.count, position > Double(below) else { return low }
        // After selection everything right of `below` is ≥ it: the next order statistic is their minimum.
        let high = Double(values[(below + 1)...].min()!)
        return low + (high - low) * (position - Double(below))
    }

    /// Reorders `values` so that `values[k]` is the k-th smallest; returns it.
    private static func kth(_ values: inout [Float], _ k: Int) -> Float {
        var low = 0, high = values.count - 1
        while low < high {
            let pivot = values[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { high = j } else if k >= i { low = i } else { break }
        }
        return values[k]
    }
}

/// The exact two-sided McNemar test on paired right/wrong outcomes.
public enum McNemar {
    /// p-value for `b` discordant pairs one way and `c` the other: 2 · P(X ≤ min(b, c)) for
    /// X ~ Binomial(b + c, ½), capped at 1 (1 when there are no discordant pairs).
    public static func exactP(_ b: Int, _ c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        let logHalf = Double(n) * log(0.5)
        var tail = 0.0
        for i in 0...min(b, c) {
            tail += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) + logHalf)
        }
        return min(1, 2 * tail)
    }
}

import Foundation

/// A point estimate with its confidence interval.
public struct Estimate: Sendable, Equatable, Codable {
    public var value: Double
    public var lower: Double
    public var upper: Double

    public init(value: Double, lower: Double, upper: Double) {
        self.value = value
        self.lower = lower
        self.upper = upper
    }
}

/// The distribution metrics of one candidate, each with a paired-bootstrap interval over windows.
public struct DistributionSummary: Sendable, Equatable {
    public var baselinePerplexity: Double
    public var candidatePerplexity: Double
    /// `100 · (ppl_candidate / ppl_baseline − 1)`.
    public var perplexityDeltaPercent: Estimate
    public var meanKLD: Estimate
    public var p99KLD: Estimate
    public var maxKLD: Double
    /// Percent of scored tokens whose top-1 equals the baseline's.
    public var top1AgreementPercent: Estimate
    /// Percent of scored tokens whose top-1 turned from right to wrong or wrong to right.
    public var flipsPercent: Estimate
    public var tokens: Int
}

extension DistributionComparison {
    /// Point estimates and percentile intervals; every resample draws windows, so the baseline's and
    /// the candidate's figures always come from the same tokens.
    public func summary(bootstrap: PairedBootstrap) -> DistributionSummary {
        let draws = bootstrap.draws(units: windows.count)
        func total(_ counts: [Int32]?, _ field: (WindowTotals) -> Double) -> Double {
            var sum = 0.0
            for (w, window) in windows.enumerated() { sum += Double(counts?[w] ?? 1) * field(window) }
            return sum
        }
        func pctDelta(_ counts: [Int32]?) -> Double {
            let n = total(counts) { Double($0.tokens) }
            return 100 * expm1((total(counts) { $0.candidateNLL } - total(counts) { $0.baselineNLL }) / n)
        }
        func mean(_ field: @escaping (WindowTotals) -> Double, scale: Double = 1) -> ([Int32]?) -> Double {
            { counts in scale * total(counts, field) / total(counts) { Double($0.tokens) } }
        }
        func estimate(_ statistic: @escaping ([Int32]?) -> Double) -> Estimate {
            let (lower, upper) = windows.isEmpty ? (.nan, .nan) : bootstrap.interval(draws: draws) { statistic($0) }
            return Estimate(value: statistic(nil), lower: lower, upper: upper)
        }
        var starts = [0]
        for window in windows { starts.append(starts.last! + window.tokens) }
        func p99(_ counts: [Int32]?) -> Double {
            var values: [Float]
            if let counts {
                values = []
                values.reserveCapacity(tokenKLD.count)
                for (w, count) in counts.enumerated() where count > 0 {
                    for _ in 0..<count { values.append(contentsOf: tokenKLD[starts[w]..<starts[w + 1]]) }
                }
            } else {
                values = tokenKLD
            }
            return Quantile.select(&values, 0.99)
        }
        let n = Double(total(nil) { Double($0.tokens) })
        return DistributionSummary(
            baselinePerplexity: exp(total(nil) { $0.baselineNLL } / n),
            candidatePerplexity: exp(total(nil) { $0.candidateNLL } / n),
            perplexityDeltaPercent: estimate(pctDelta),
            meanKLD: estimate(mean { $0.kld }),
            p99KLD: estimate(p99),
            maxKLD: Double(tokenKLD.max() ?? .nan),
            top1AgreementPercent: estimate(mean({ Double($0.sameTop1) }, scale: 100)),
            flipsPercent: estimate(mean({ Double($0.flips) }, scale: 100)),
            tokens: Int(n))
    }
}

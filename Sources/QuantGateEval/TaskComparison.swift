import Foundation

/// A suite's paired comparison: the same items, right or wrong for each model.
public struct TaskComparison: Sendable, Equatable {
    public var items: Int
    public var baselineAccuracy: Double
    public var candidateAccuracy: Double
    public var baselineStandardError: Double
    public var candidateStandardError: Double
    public var baselineAccuracyNorm: Double?
    public var candidateAccuracyNorm: Double?
    /// Candidate minus baseline accuracy in percentage points, with a paired-bootstrap interval over items.
    public var deltaPoints: Estimate
    public var flipsToWrong: Int
    public var flipsToRight: Int
    public var mcnemarP: Double

    /// Compares outcomes item by item (`baseline[i]` and `candidate[i]` are the same item).
    public init(baseline: [TaskOutcome], candidate: [TaskOutcome], bootstrap: PairedBootstrap) {
        precondition(baseline.count == candidate.count && !baseline.isEmpty, "paired outcomes of the same items")
        let n = baseline.count
        let b = baseline.map { $0.correct ? 1.0 : 0.0 }, c = candidate.map { $0.correct ? 1.0 : 0.0 }
        func accuracy(_ values: [Double]) -> Double { values.reduce(0, +) / Double(n) }
        func standardError(_ p: Double) -> Double { n > 1 ? (p * (1 - p) / Double(n - 1)).squareRoot() : .nan }
        func normAccuracy(_ outcomes: [TaskOutcome]) -> Double? {
            let norms = outcomes.compactMap(\.correctNorm)
            return norms.count == n ? Double(norms.filter { $0 }.count) / Double(n) : nil
        }
        items = n
        baselineAccuracy = accuracy(b)
        candidateAccuracy = accuracy(c)
        baselineStandardError = standardError(baselineAccuracy)
        candidateStandardError = standardError(candidateAccuracy)
        baselineAccuracyNorm = normAccuracy(baseline)
        candidateAccuracyNorm = normAccuracy(candidate)
        flipsToWrong = zip(b, c).filter { $0 == 1 && $1 == 0 }.count
        flipsToRight = zip(b, c).filter { $0 == 0 && $1 == 1 }.count
        mcnemarP = McNemar.exactP(flipsToWrong, flipsToRight)
        let differences = zip(c, b).map { $0 - $1 }
        let (lower, upper) = bootstrap.interval(units: n) { counts in
            var sum = 0.0
            for i in 0..<n where counts[i] > 0 { sum += Double(counts[i]) * differences[i] }
            return 100 * sum / Double(n)
        }
        deltaPoints = Estimate(value: 100 * (candidateAccuracy - baselineAccuracy), lower: lower, upper: upper)
    }
}

import Foundation
import QuantGateEval
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// The statistics behind every interval: quantiles, the bootstrap, McNemar, KL divergence storage.
@Suite("Evaluation statistics")
struct StatisticsTests {
    @Test("quantiles interpolate as numpy's default; selection agrees with sorting")
    func quantiles() {
        #expect(Quantile.sorted([1, 2, 3, 4], 0.5) == 2.5)
        #expect(Quantile.sorted([1, 2, 3, 4, 5], 0.99) == 4.96)
        var random = SplitMix64(seed: 3)
        for n in [1, 2, 7, 100, 1001] {
            let values = (0..<n).map { _ in Float(random.next() % 50) }   // many ties
            for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
                var copy = values
                let selected = Quantile.select(&copy, q)
                let sorted = Quantile.sorted(values.map(Double.init).sorted(), q)
                #expect(abs(selected - sorted) < 1e-9, "n \(n) q \(q): \(selected) vs \(sorted)")
            }
        }
    }

    @Test("McNemar's exact p-values (binomial, two-sided)")
    func mcnemar() {
        #expect(McNemar.exactP(0, 0) == 1)
        #expect(abs(McNemar.exactP(0, 5) - 0.0625) < 1e-12)          // 2 · 0.5^5
        #expect(abs(McNemar.exactP(2, 8) - 0.109375) < 1e-12)        // 2 · (1 + 10 + 45) / 1024
        #expect(McNemar.exactP(5, 5) == 1)
    }

    @Test("the bootstrap is seeded, pairs units, and its interval covers a known mean")
    func bootstrap() {
        let b = PairedBootstrap(resamples: 500, seed: 1)
        #expect(b.draws(units: 10) == b.draws(units: 10))
        #expect(b.draws(units: 10) != PairedBootstrap(resamples: 500, seed: 2).draws(units: 10))
        #expect(b.draws(units: 10).allSatisfy { $0.reduce(0, +) == 10 })
        let values = (0..<200).map { Double($0 % 10) }   // mean 4.5
        let (lower, upper) = b.interval(units: 200) { counts in
            zip(counts, values).reduce(0.0) { $0 + Double($1.0) * $1.1 } / 200
        }
        #expect(lower < 4.5 && 4.5 < upper && upper - lower < 1.5)
    }

    @Test("top-K storage with a tail bucket approaches the full-row KL divergence")
    func topKAgreesWithFull() {
        var random = SplitMix64(seed: 9)
        let vocab = 512
        let tokens = (0..<33).map { _ in Int(random.next() % UInt64(vocab)) }
        let window = ScoringWindow(tokens: tokens, firstScored: 0)
        func logits(_ noise: Float) -> Matrix {
            var r = SplitMix64(seed: 4)
            return Matrix(rows: window.scoredCount, columns: vocab, values: (0..<(window.scoredCount * vocab)).map { i in
                let base = Float(Int(r.next() % 2000) - 1000) / 150
                return base + noise * Float(Int(r.next() % 2000) - 1000) / 1000 * Float(i % 3)
            })
        }
        let base = logits(0), candidate = logits(0.3)
        var full = BaselineDistributions(storage: .full, vocabularySize: vocab)
        var top = BaselineDistributions(storage: .topK(128), vocabularySize: vocab)
        full.append(logits: base, window: window)
        top.append(logits: base, window: window)
        #expect(full.argmax == top.argmax && full.targetLogProbs == top.targetLogProbs)
        #expect(top.indices.count == 32 * 128 && full.indices.isEmpty)
        let klFull = DistributionComparison.compareWindow(0, logits: candidate, window: window, baseline: full).totals
        let klTop = DistributionComparison.compareWindow(0, logits: candidate, window: window, baseline: top).totals
        let klSelf = DistributionComparison.compareWindow(0, logits: base, window: window, baseline: full).totals
        // Only the f16 rounding of the stored row remains (measured 5e-7 per token).
        #expect(klSelf.kld / 32 < 5e-6 && klSelf.sameTop1 == 32)
        #expect(klTop.kld <= klFull.kld * 1.001 && klTop.kld > 0.8 * klFull.kld, "top-K \(klTop.kld) full \(klFull.kld)")
    }
}

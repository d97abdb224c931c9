import CKernels
import Foundation
import QuantGateModel
import QuantGateTensors

/// Per-window totals of a candidate's predictions against the baseline's, the unit the paired
/// bootstrap resamples.
public struct WindowTotals: Sendable, Equatable {
    public var tokens = 0
    public var baselineNLL = 0.0
    public var candidateNLL = 0.0
    public var kld = 0.0
    public var sameTop1 = 0
    public var flips = 0

    public init() {}
}

/// A candidate scored on the baseline's windows: per-window totals and every token's KL divergence.
public struct DistributionComparison: Sendable, Equatable {
    public var windows: [WindowTotals]
    /// KL(baseline ‖ candidate) per scored token, in window order.
    public var tokenKLD: [Float]

    /// Runs `candidate` over `windows` (the ones the baseline was recorded on) and compares each scored
    /// position with `baseline`. `progress(done, total)` counts steps of a window through one block or the head.
    public static func run(candidate: LlamaModel, windows: [ScoringWindow], baseline: BaselineDistributions,
                           progress: ((Int, Int) -> Void)? = nil) throws -> DistributionComparison {
        precondition(windows.count == baseline.windowCount, "baseline was recorded on other windows")
        guard candidate.configuration.vocabSize == baseline.vocabularySize else {
            throw EvalError.invalidSetting(
                flag: "candidate", reason: "has a vocabulary of \(candidate.configuration.vocabSize), the baseline \(baseline.vocabularySize)")
        }
        var result = DistributionComparison(windows: [], tokenKLD: [])
        result.tokenKLD.reserveCapacity(baseline.tokenCount)
        try candidate.scoredLogits(windows, progress: progress) { w, logits in
            let (totals, klds) = compareWindow(w, logits: logits, window: windows[w], baseline: baseline)
            result.windows.append(totals)
            result.tokenKLD += klds
        }
        return result
    }
}

extension DistributionComparison {
    /// Compares a candidate's logits for window `w` at its scored positions (`[window.scoredCount, vocab]`) with the baseline's
    /// record of that window: the window's totals and each scored token's KL divergence.
    public static func compareWindow(_ w: Int, logits: Matrix, window: ScoringWindow,
                                     baseline: BaselineDistributions) -> (totals: WindowTotals, kld: [Float]) {
        var comparer = TokenComparison(baseline: baseline)
        var totals = WindowTotals()
        var klds: [Float] = []
        var token = baseline.windowStarts[w]
        for position in window.firstScored..<(window.tokens.count - 1) {
            let outcome = comparer.compare(logits: logits, row: position - window.firstScored, target: window.tokens[position + 1],
                                           baselineToken: token)
            totals.tokens += 1
            totals.baselineNLL -= Double(baseline.targetLogProbs[token])
            totals.candidateNLL -= outcome.logProb
            totals.kld += outcome.kld
            totals.sameTop1 += outcome.sameTop1 ? 1 : 0
            totals.flips += outcome.flip ? 1 : 0
            klds.append(Float(outcome.kld))
            token += 1
        }
        precondition(token == baseline.windowStarts[w + 1], "window \(w) scores other positions than the baseline's")
        return (totals, klds)
    }
}

/// One scored position of a candidate against the stored baseline distribution.
///
/// KL(P‖Q) = Σ p (log p − log q) with P the baseline. Full rows: P is the stored f16 row renormalised
/// (so rounding does not bias the sum). Top-K rows: the K stored entries, plus one tail bucket holding
/// the rest of each distribution's mass, `p_tail · log(p_tail / q_tail)` — the KL divergence of the
/// coarsened distributions, a lower bound of the exact value that meets it as K grows.
struct TokenComparison {
    let baseline: BaselineDistributions
    private var decoded: [Float]

    init(baseline: BaselineDistributions) {
        self.baseline = baseline
        decoded = [Float](repeating: 0, count: baseline.width)
    }

    struct Outcome {
        var logProb: Double
        var kld: Double
        var sameTop1: Bool
        var flip: Bool
    }

    mutating func compare(logits: Matrix, row: Int, target: Int, baselineToken t: Int) -> Outcome {
        let vocab = baseline.vocabularySize
        let width = baseline.width
        baseline.logProbs.withUnsafeBufferPointer { bits in
            qg_f16_to_f32(bits.baseAddress! + t * width, &decoded, Int64(width))
        }
        return logits.values.withUnsafeBufferPointer { buffer -> Outcome in
            let q = UnsafeBufferPointer(rebasing: buffer[(row * vocab)..<((row + 1) * vocab)])
            let (lse, top) = LogSoftmax.normaliser(q)
            var kld = 0.0
            switch baseline.storage {
            case .full:
                var z = 0.0
                for j in 0..<vocab { z += Double(exp(decoded[j])) }
                let logZ = log(z)
                for j in 0..<vocab {
                    let logP = Double(decoded[j]) - logZ
                    kld += exp(logP) * (logP - (Double(q[j]) - lse))
                }
            case .topK:
                var pMass = 0.0, qMass = 0.0
                for i in 0..<width {
                    let j = Int(baseline.indices[t * width + i])
                    let logP = Double(decoded[i]), logQ = Double(q[j]) - lse
                    let p = exp(logP)
                    kld += p * (logP - logQ)
                    pMass += p
                    qMass += exp(logQ)
                }
                let pTail = 1 - pMass
                if pTail > 1e-12 { kld += pTail * log(pTail / max(1 - qMass, 1e-30)) }
            }
            let baselineTop = Int(baseline.argmax[t])
            return Outcome(logProb: Double(q[target]) - lse, kld: kld, sameTop1: top == baselineTop,
                           flip: (baselineTop == target) != (top == target))
        }
    }
}

import Foundation
import QuantGateTensors

/// What the α search chose for one scaling group.
public struct AWQScaleChoice: Sendable, Equatable {
    /// Per input channel: the scales the group's Linears' columns are multiplied by (and the previous op divided by).
    public let scales: [Float]
    /// The chosen α.
    public let ratio: Double
    /// Its module-output MSE.
    public let loss: Double
    /// The module-output MSE of every candidate, in α order (the chosen one is the first minimum).
    public let losses: [Double]
}

/// AWQ's activation-aware scale search for one scaling group (Linears reading the same input), as AutoAWQ's
/// `_search_best_scale` defines it: for each α on the grid, scales
/// `s = clamp(mean|x|^α / (mean|ŵ|^(1−α) + 1e-4), 1e-4)` normalised by `sqrt(max s · min s)` (non-finite
/// entries reset to 1), the group's Linears replaced by `Q(W · s) / s`, and the MSE of the inspected
/// module's output against its full-precision output over every calibration token; the first minimum wins.
/// `ŵ` is each weight divided by its group's max |w| (the concatenated Linears, groups along the input).
public enum AWQScaleSearch {
    /// Per channel mean |x| over every row of `inputs` (AWQ's activation statistic), accumulated in f64.
    public static func meanAbsolute(_ inputs: [Matrix]) -> [Float] {
        let width = inputs[0].columns
        var sum = [Double](repeating: 0, count: width)
        var rows = 0
        for x in inputs {
            for r in 0..<x.rows {
                for c in 0..<width { sum[c] += Double(abs(x.values[r * width + c])) }
            }
            rows += x.rows
        }
        return sum.map { Float($0 / Double(max(rows, 1))) }
    }

    /// Per input channel, the mean over the output rows of every Linear of `|w| / (max |w| of its group + 1e-6)`.
    public static func normalizedWeightMean(_ weights: [[Float]], columns: Int, groupSize: Int) -> [Float] {
        var sum = [Double](repeating: 0, count: columns)
        var rows = 0
        for w in weights {
            for r in 0..<(w.count / columns) {
                for g0 in stride(from: 0, to: columns, by: groupSize) {
                    let group = (r * columns + g0)..<(r * columns + g0 + groupSize)
                    let top = w[group].reduce(Float(0)) { max($0, abs($1)) } + 1e-6
                    for i in group { sum[i - r * columns] += Double(abs(w[i]) / top) }
                }
            }
            rows += w.count / columns
        }
        return sum.map { Float($0 / Double(max(rows, 1))) }
    }

    /// The normalised scales of candidate `ratio`.
    public static func candidate(ratio: Double, activationMean x: [Float], weightMean w: [Float], duo: Bool) -> [Float] {
        let (alpha, beta) = (Float(ratio), Float(1 - ratio))
        var s = x.indices.map { i in
            max(duo ? powf(x[i], alpha) / (powf(w[i], beta) + 1e-4) : powf(x[i], alpha), 1e-4)
        }
        let norm = (s.max()! * s.min()!).squareRoot()
        for i in s.indices {
            s[i] = s[i] / norm
            if !s[i].isFinite { s[i] = 1 }
        }
        return s
    }

    /// Searches the scales of one group.
    /// - Parameters:
    ///   - inputs: the group's input on every calibration window (full precision).
    ///   - weights: the group's Linears, each `[rows, columns]`.
    ///   - output: the inspected module's output on window `w` with the group's Linears replaced by the
    ///     given weights (in `weights`' order).
    ///   - reference: the module's full-precision output on every window.
    ///   - module: the group's first Linear, for errors.
    /// - Throws: ``AWQError/noFiniteLoss(module:)`` when no candidate gives a finite loss.
    public static func search(inputs: [Matrix], weights: [[Float]], columns: Int, settings: AWQSettings,
                              reference: [Matrix], module: String, output: (_ window: Int, _ weights: [[Float]]) -> Matrix) throws -> AWQScaleChoice {
        let x = meanAbsolute(inputs)
        let w = normalizedWeightMean(weights, columns: columns, groupSize: settings.groupSize)
        let elements = Double(reference.reduce(0) { $0 + $1.values.count })
        var losses: [Double] = []
        var best: (loss: Double, index: Int, scales: [Float])?
        for k in 0..<settings.grid {
            let ratio = Double(k) / Double(settings.grid)
            let s = candidate(ratio: ratio, activationMean: x, weightMean: w, duo: settings.duoScaling)
            let replaced = weights.map {
                AWQGrid.fakeQuantized($0, rows: $0.count / columns, columns: columns, groupSize: settings.groupSize, columnScale: s)
            }
            var sum = 0.0
            for window in reference.indices {
                let out = output(window, replaced)
                let ref = reference[window].values
                for i in ref.indices {
                    let d = Double(ref[i]) - Double(out.values[i])
                    sum += d * d
                }
            }
            let loss = sum / elements
            losses.append(loss)
            if loss < (best?.loss ?? .infinity) { best = (loss, k, s) }
        }
        guard let best else { throw AWQError.noFiniteLoss(module: module) }
        return AWQScaleChoice(scales: best.scales, ratio: Double(best.index) / Double(settings.grid), loss: best.loss, losses: losses)
    }
}

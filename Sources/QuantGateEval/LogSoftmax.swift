import Foundation

/// Log-softmax of logits rows with the normaliser summed in f64 (as `llama-perplexity` does).
public enum LogSoftmax {
    /// `log Σ exp(row)` of `count` logits, and the index of the largest (the first one on ties).
    public static func normaliser(_ row: UnsafeBufferPointer<Float>) -> (logSumExp: Double, argmax: Int) {
        let (maximum, logSum, argmax) = shifted(row)
        return (Double(maximum) + logSum, argmax)
    }

    /// Log-probability of `token` and the argmax of row `row` of a logits matrix laid out `[rows, columns]`,
    /// computed as `llama-perplexity` does: `(x[token] − max) − log Σ exp(x − max)`.
    public static func logProbability(_ values: [Float], columns: Int, row: Int, of token: Int) -> (logProb: Double, argmax: Int) {
        values.withUnsafeBufferPointer { buffer in
            let slice = UnsafeBufferPointer(rebasing: buffer[(row * columns)..<((row + 1) * columns)])
            let (maximum, logSum, argmax) = shifted(slice)
            return (Double(slice[token] - maximum) - logSum, argmax)
        }
    }

    /// The row's maximum, `log Σ exp(x − max)` summed in f64, and the first argmax.
    private static func shifted(_ row: UnsafeBufferPointer<Float>) -> (maximum: Float, logSum: Double, argmax: Int) {
        var maximum = -Float.infinity
        var argmax = 0
        for j in row.indices where row[j] > maximum {
            maximum = row[j]
            argmax = j
        }
        var sum = 0.0
        for value in row { sum += Double(exp(value - maximum)) }
        return (maximum, log(sum), argmax)
    }
}

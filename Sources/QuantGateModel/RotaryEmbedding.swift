import Foundation
import QuantGateTensors

/// Rotary position embedding in the Hugging Face "half-split" layout: within each head, dimension
/// `i` pairs with `i + headDim/2`; `x₁' = x₁·cos − x₂·sin`, `x₂' = x₂·cos + x₁·sin` with angle
/// `position · invFreq[i]`.
struct RotaryEmbedding: Sendable {
    /// `1 / θ^(2i/d)` for `i < d/2`, after the configured scaling; f32 as transformers computes it.
    let inverseFrequencies: [Float]

    init(configuration c: LlamaConfiguration) {
        let d = c.headDim
        let theta = Float(c.ropeTheta)
        var inverse = (0..<(d / 2)).map { i in 1 / pow(theta, Float(2 * i) / Float(d)) }
        switch c.ropeScaling {
        case .none:
            break
        case .linear(let factor):
            inverse = inverse.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            // Llama 3.1: long wavelengths scaled by 1/factor, short ones kept, a smooth blend between.
            let lowWavelength = Float(Double(original) / low)
            let highWavelength = Float(Double(original) / high)
            inverse = inverse.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                if wavelength < highWavelength { return frequency }
                if wavelength > lowWavelength { return frequency / Float(factor) }
                let smooth = (Float(original) / wavelength - Float(low)) / Float(high - low)
                return (1 - smooth) * frequency / Float(factor) + smooth * frequency
            }
        }
        inverseFrequencies = inverse
    }

    /// Rotates every head of `x` (`[T, heads · headDim]`), row `t` being at position `start + t`.
    func apply(_ x: inout Matrix, heads: Int, headDim: Int, start: Int) {
        let half = headDim / 2
        let width = heads * headDim
        let inverse = inverseFrequencies
        x.values.withUnsafeMutableBufferPointer { buffer in
            let values = UnsafeSendable(buffer.baseAddress!)
            // Rows in parallel: each row is rotated by exactly one call, whatever the core count.
            Kernels.parallelRows(x.rows) { t in
                let position = Float(start + t)
                var cosines = [Float](repeating: 0, count: half), sines = [Float](repeating: 0, count: half)
                for i in 0..<half {
                    let angle = Double(position * inverse[i])
                    cosines[i] = Float(cos(angle))
                    sines[i] = Float(sin(angle))
                }
                for head in 0..<heads {
                    let base = values.pointer + t * width + head * headDim
                    for i in 0..<half {
                        let (x1, x2) = (base[i], base[i + half])
                        base[i] = x1 * cosines[i] - x2 * sines[i]
                        base[i + half] = x2 * cosines[i] + x1 * sines[i]
                    }
                }
            }
        }
    }
}

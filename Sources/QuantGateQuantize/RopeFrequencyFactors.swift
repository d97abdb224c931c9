import Foundation
import QuantGateFormats
import QuantGateModel

/// Llama 3.1's RoPE scaling in llama.cpp's form: a `rope_freqs.weight` tensor of `head_dim / 2`
/// factors by which each frequency's θ is divided, computed as llama.cpp's converter computes it:
/// for frequency fᵢ = base^(−2i/d) and wavelength λ = 2π/fᵢ, the factor is 1 when λ < L/high,
/// `factor` when λ > L/low, and otherwise 1 / ((1 − s)/factor + s) with s = (L/λ − low)/(high − low)
/// (L the original context length).
public enum RopeFrequencyFactors {
    /// The factors, or nil when the model has no llama3 scaling.
    public static func llama3(_ c: LlamaConfiguration) -> [Float]? {
        guard case .llama3(let factor, let low, let high, let original) = c.ropeScaling else { return nil }
        let lowWavelength = Double(original) / low, highWavelength = Double(original) / high
        return (0..<(c.headDim / 2)).map { i in
            let frequency = Double(Float(1 / pow(c.ropeTheta, Double(2 * i) / Double(c.headDim))))
            let wavelength = 2 * Double.pi / frequency
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return Float(factor) }
            let smooth = (Double(original) / wavelength - low) / (high - low)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }

    /// Our own keys recording the llama3 parameters, so that QuantGate can run the file again
    /// (llama.cpp needs only the tensor).
    static func provenance(_ c: LlamaConfiguration) -> [(key: String, value: GGUFValue)] {
        guard case .llama3(let factor, let low, let high, let original) = c.ropeScaling else { return [] }
        return [
            ("quantgate.rope_scaling.llama3.factor", .float64(factor)),
            ("quantgate.rope_scaling.llama3.low_freq_factor", .float64(low)),
            ("quantgate.rope_scaling.llama3.high_freq_factor", .float64(high)),
            ("quantgate.rope_scaling.llama3.original_max_position_embeddings", .uint32(UInt32(original))),
        ]
    }
}

import QuantGateCalibration
import QuantGateModel

/// max |x| of every Linear's input over the calibration set, by module name
/// (`model.layers.N.self_attn.q_proj`): what static FP8 activation scales are made from, as
/// llm-compressor's static min-max observer and AutoFP8 take the maximum over all calibration batches.
public enum ActivationMaxima {
    public static func from(statistics file: StatisticsFile, configuration: LlamaConfiguration) throws -> [String: Float] {
        var maxima: [String: Float] = [:]
        for layer in 0..<configuration.layerCount {
            for input in try file.block(layer).inputs {
                let amax = input.statistics.maxAbs.max() ?? 0
                for stem in input.point.linears { maxima["model.layers.\(layer).\(stem)"] = amax }
            }
        }
        return maxima
    }
}

import CKernels
import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateTokenizer

/// An FP8 compressed-tensors directory seen as the model vLLM runs on Hopper: weights dequantized
/// from their E4M3 codes and scales, and every quantized Linear's input rounded to E4M3 with the
/// scale the runtime uses, so the evaluator judges the W8A8 product the hardware computes.
public struct FP8Model: Sendable {
    public let checkpoint: FP8Checkpoint
    public let configuration: LlamaConfiguration
    public let weights: FP8WeightSource
    public let tokenizer: Tokenizer

    /// Opens `directory`.
    /// - Throws: ``QuantizedCheckpointError``, ``ModelError`` or the tokenizer's error, naming the file.
    public init(directory: String) throws {
        checkpoint = try FP8Checkpoint(directory: directory)
        configuration = try LlamaConfiguration(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent("config.json").path)
        weights = try FP8WeightSource(checkpoint: checkpoint)
        tokenizer = try Tokenizer(directory: directory)
    }
}

/// Weights of an FP8 checkpoint by tensor name, with the activation rounding of each product.
///
/// vLLM fuses q/k/v and gate/up into one GEMM each. With static input scales it quantizes that GEMM's
/// input with the largest of the members' `input_scale`s, and with per-tensor weight scales it
/// requantizes every member to the largest `weight_scale` (`requantize_with_max_scale`: code · own scale,
/// then E4M3 of that times 1/max); this source gives each member what the fused GEMM uses.
public struct FP8WeightSource: WeightSource {
    public let checkpoint: FP8Checkpoint
    private let inputScales: [String: Float]
    /// Per-tensor schemes: the fused group's largest weight scale, for members whose own is smaller.
    private let fusedWeightScales: [String: Float]

    init(checkpoint: FP8Checkpoint) throws {
        self.checkpoint = checkpoint
        var scales: [String: Float] = [:]
        for module in checkpoint.quantizedModules {
            if let scale = try checkpoint.inputScale(module: module) { scales[module] = scale }
        }
        var fused = scales
        for module in scales.keys {
            fused[module] = FusedLinears.group(of: module).compactMap { scales[$0] }.max()
        }
        inputScales = fused
        var weightScales: [String: Float] = [:]
        if checkpoint.config.scheme.weights == .tensor {
            let own = Dictionary(uniqueKeysWithValues: try checkpoint.quantizedModules.map { ($0, try checkpoint.weightScales(module: $0)[0]) })
            for (module, scale) in own {
                let largest = FusedLinears.group(of: module).compactMap { own[$0] }.max() ?? scale
                if largest > scale { weightScales[module] = largest }
            }
        }
        fusedWeightScales = weightScales
    }

    public func weight(_ name: String) throws -> (shape: [Int], values: [Float]) {
        var (shape, values) = try checkpoint.floats(name)
        if name.hasSuffix(".weight"), let largest = fusedWeightScales[String(name.dropLast(".weight".count))] {
            // vLLM: per_tensor_dequantize (code in f16 times a 0-dim f32 scale: an f16 product), then the
            // static quantization kernel with the largest scale.
            for i in values.indices { values[i] = Float(Float16(values[i])) }
            values.withUnsafeMutableBufferPointer { qg_fp8_e4m3_fake_quant($0.baseAddress, 1 / largest, largest, Int64($0.count)) }
        }
        return (shape, values)
    }

    public func inputQuantization(forWeight name: String) -> InputQuantization? {
        guard checkpoint.isQuantized(weight: name) else { return nil }
        let module = String(name.dropLast(".weight".count))
        switch checkpoint.config.scheme.activations {
        case .dynamic: return .fp8E4M3PerToken
        case .static: return inputScales[module].map { .fp8E4M3(scale: $0) }
        }
    }
}

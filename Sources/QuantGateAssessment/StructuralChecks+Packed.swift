import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateReport

/// The GPTQ and AWQ checks:
/// - `quantized-tensors`: every decoder-block Linear is stored as `qweight`/`qzeros`/`scales` (and GPTQ's
///   `g_idx`), and nothing else (embeddings, `lm_head`) is.
/// - `scales`: every scale finite and positive. GPTQ: symmetric checkpoints have every zero at
///   `2^(bits-1)`; a v1 (`gptq`) checkpoint has no zero of 0, which loaders read differently (GPTQModel 0,
///   llama.cpp 16). AWQ: every norm that absorbed the scales is finite (a scale that under- or overflowed
///   the norm's dtype would show there).
extension StructuralChecks {
    static func packedQuantizedTensors(_ checkpoint: any PackedLinearCheckpoint, scheme: String, configuration c: LlamaConfiguration) -> StructuralCheck {
        let expected = Set(PackedExport.blockLinears(c))
        let present = Set(checkpoint.quantizedModules)
        let missing = expected.subtracting(present).sorted(), extra = present.subtracting(expected).sorted()
        let problems = missing.map { "\($0) is not quantized" } + extra.map { "\($0) is quantized, expected the source dtype" }
        return StructuralCheck(name: "quantized-tensors", passed: problems.isEmpty,
                               detail: problems.isEmpty ? "\(present.count) Linears in \(scheme), lm_head and embeddings in float"
                                   : problems.prefix(3).joined(separator: "; ") + (problems.count > 3 ? "; … \(problems.count) in all" : ""))
    }

    static func gptqScales(_ checkpoint: GPTQCheckpoint) -> StructuralCheck {
        let config = checkpoint.config
        let symmetricZero = Int32(1 << (config.bits - 1))
        return packedScales(checkpoint, extra: []) { module, linear in
            if config.symmetric, let zero = linear.zeros.first(where: { $0 != symmetricZero }) {
                return "\(module).qzeros holds \(zero) in a symmetric checkpoint (expected \(symmetricZero))"
            } else if config.checkpointFormat == .gptq && linear.zeros.contains(0) {
                return "\(module).qzeros holds a zero point of 0 in gptq v1, which loaders read differently"
            }
            return nil
        }
    }

    static func awqScales(_ checkpoint: AWQCheckpoint, configuration c: LlamaConfiguration) -> StructuralCheck {
        let norms = (0..<c.layerCount).flatMap { layer in
            ["input_layernorm", "post_attention_layernorm"].map { "model.layers.\(layer).\($0).weight" }
        }
        let bad = norms.filter { name in (try? checkpoint.floats(name).values.allSatisfy(\.isFinite)) != true }
        return packedScales(checkpoint, extra: bad.map { "\($0) is missing or not finite" }) { _, _ in nil }
    }

    /// Every scale finite and positive, plus the format's own problem per Linear and `extra` ones.
    private static func packedScales(_ checkpoint: any PackedLinearCheckpoint, extra: [String],
                                     check: (String, GroupQuantizedLinear) -> String?) -> StructuralCheck {
        var problems = extra
        for module in checkpoint.quantizedModules {
            guard let linear = try? checkpoint.unpack(module: module) else {
                problems.append("\(module) cannot be unpacked")
                continue
            }
            if !linear.scales.allSatisfy({ $0.isFinite && $0 > 0 }) { problems.append("\(module).scales has a zero, negative or non-finite scale") }
            if let problem = check(module, linear) { problems.append(problem) }
        }
        return StructuralCheck(name: "scales", passed: problems.isEmpty,
                               detail: problems.isEmpty ? "every scale of \(checkpoint.quantizedModules.count) modules finite and positive, zero points storable"
                                   : problems.prefix(3).joined(separator: "; ") + (problems.count > 3 ? "; … \(problems.count) in all" : ""))
    }
}

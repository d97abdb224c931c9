import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateReport

/// The GPTQ checks:
/// - `quantized-tensors`: every decoder-block Linear is stored as `qweight`/`qzeros`/`scales`/`g_idx`, and
///   nothing else (embeddings, `lm_head`) is.
/// - `scales`: every scale finite and positive; symmetric checkpoints have every zero at `2^(bits-1)`; a v1
///   (`gptq`) checkpoint has no zero of 0, which loaders read differently (GPTQModel 0, llama.cpp 16).
extension StructuralChecks {
    static func gptqQuantizedTensors(_ checkpoint: GPTQCheckpoint, configuration c: LlamaConfiguration) -> StructuralCheck {
        let expected = Set(GPTQExporter.blockLinears(c))
        let present = Set(checkpoint.quantizedModules)
        let missing = expected.subtracting(present).sorted(), extra = present.subtracting(expected).sorted()
        let problems = missing.map { "\($0) is not quantized" } + extra.map { "\($0) is quantized, expected the source dtype" }
        return StructuralCheck(name: "quantized-tensors", passed: problems.isEmpty,
                               detail: problems.isEmpty ? "\(present.count) Linears in \(checkpoint.config.bits)-bit GPTQ, lm_head and embeddings in float"
                                   : problems.prefix(3).joined(separator: "; ") + (problems.count > 3 ? "; … \(problems.count) in all" : ""))
    }

    static func gptqScales(_ checkpoint: GPTQCheckpoint) -> StructuralCheck {
        let config = checkpoint.config
        let symmetricZero = Int32(1 << (config.bits - 1))
        var problems: [String] = []
        for module in checkpoint.quantizedModules {
            guard let linear = try? checkpoint.unpack(module: module) else {
                problems.append("\(module) cannot be unpacked")
                continue
            }
            if !linear.scales.allSatisfy({ $0.isFinite && $0 > 0 }) { problems.append("\(module).scales has a zero, negative or non-finite scale") }
            if config.symmetric, let zero = linear.zeros.first(where: { $0 != symmetricZero }) {
                problems.append("\(module).qzeros holds \(zero) in a symmetric checkpoint (expected \(symmetricZero))")
            } else if config.checkpointFormat == .gptq && linear.zeros.contains(0) {
                problems.append("\(module).qzeros holds a zero point of 0 in gptq v1, which loaders read differently")
            }
        }
        return StructuralCheck(name: "scales", passed: problems.isEmpty,
                               detail: problems.isEmpty ? "every scale of \(checkpoint.quantizedModules.count) modules finite and positive, zero points storable"
                                   : problems.prefix(3).joined(separator: "; ") + (problems.count > 3 ? "; … \(problems.count) in all" : ""))
    }
}

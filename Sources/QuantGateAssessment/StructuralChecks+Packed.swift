import QuantGateFormats
import QuantGateModel
import QuantGateOutput
import QuantGateQuantize
import QuantGateReport

/// The GPTQ and AWQ checks:
/// - `quantized-tensors`: every decoder-block Linear is stored as `qweight`/`qzeros`/`scales` (and GPTQ's
///   `g_idx`), and nothing else (embeddings, `lm_head`) is.
/// - `scales`: every scale finite and positive. GPTQ: symmetric checkpoints have every zero at
///   `2^(bits-1)`; a v1 (`gptq`) checkpoint has no zero of 0, which loaders read differently (GPTQModel 0,
///   llama.cpp 16). AWQ: every norm that absorbed the scales is finite (a scale that under- or overflowed
///   the norm's dtype would show there).
/// - `group-index` (GPTQ): every `g_idx` entry names a group, and without `desc_act` each is `i / group_size`
///   (the kernels then assume that order, so an act-order `g_idx` would run as another model).
extension StructuralChecks {
    static func packedQuantizedTensors(_ checkpoint: any PackedLinearCheckpoint, scheme: String, configuration c: LlamaConfiguration) -> StructuralCheck {
        let expected = Set(PackedExport.blockLinears(c))
        let present = Set(checkpoint.quantizedModules)
        let missing = expected.subtracting(present).sorted(), extra = present.subtracting(expected).sorted()
        let problems = missing.map { "\($0) is not quantized" } + extra.map { "\($0) is quantized, expected the source dtype" }
        return summarised("quantized-tensors", problems: problems, passing: "\(present.count) Linears in \(scheme), lm_head and embeddings in float")
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

    static func gptqGroupIndex(_ checkpoint: GPTQCheckpoint) -> StructuralCheck {
        let config = checkpoint.config
        var problems: [String] = []
        var stored = 0
        for module in checkpoint.quantizedModules where checkpoint.checkpoint.locate(module + ".g_idx") != nil {
            let name = module + ".g_idx"
            guard let columns = checkpoint.shapes[module]?.last, let groupIndex = try? checkpoint.checkpoint.int32s(named: name) else {
                problems.append("\(name) cannot be read")
                continue
            }
            stored += 1
            let group = config.groupSize ?? columns
            let groups = (columns + group - 1) / group
            if let bad = groupIndex.firstIndex(where: { $0 < 0 || Int($0) >= groups }) {
                problems.append("\(name)[\(bad)] is \(groupIndex[bad]); the groups are 0…\(groups - 1)")
            } else if !config.descAct, let bad = groupIndex.indices.first(where: { Int(groupIndex[$0]) != $0 / group }) {
                problems.append("\(name)[\(bad)] is \(groupIndex[bad]), not \(bad / group): an act-order g_idx, but desc_act is false")
            }
        }
        return summarised("group-index", problems: problems, passing: "\(stored) g_idx tensors name valid groups\(config.descAct ? "" : " in column order (desc_act false)")")
    }

    /// Every scale finite and positive, plus the format's own problem per Linear and `extra` ones.
    private static func packedScales(_ checkpoint: any PackedLinearCheckpoint, extra: [String],
                                     check: (String, GroupQuantizedLinear) -> String?) -> StructuralCheck {
        var problems = extra
        for module in checkpoint.quantizedModules {
            let linear: GroupQuantizedLinear
            do {
                linear = try checkpoint.unpack(module: module)
            } catch {
                problems.append("\(module) cannot be unpacked: \(OutputError.plainReason(error))")
                continue
            }
            if !linear.scales.allSatisfy({ $0.isFinite && $0 > 0 }) { problems.append("\(module).scales has a zero, negative or non-finite scale") }
            if let problem = check(module, linear) { problems.append(problem) }
        }
        return summarised("scales", problems: problems, passing: "every scale of \(checkpoint.quantizedModules.count) modules finite and positive, zero points storable")
    }
}

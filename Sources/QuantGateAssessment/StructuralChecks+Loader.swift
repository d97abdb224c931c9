import QuantGateFormats
import QuantGateOutput
import QuantGateQuantize
import QuantGateReport
import QuantGateTensors

/// `loads-in-vllm` (FP8, GPTQ, AWQ): the artefact passes the acceptance rules of every vLLM release QuantGate
/// pins (``VLLMRules/pinned``), applied to its `quantization_config` and its Linears, so an artefact the GPU
/// targets' loader would refuse (or read as another model) fails its gate, naming the rule and the release.
extension StructuralChecks {
    static func loadsInVLLM(_ candidate: ModelArtefact) -> StructuralCheck? {
        guard let directory = candidate.fp8?.directory ?? candidate.packed?.directory else { return nil }
        let quantized = candidate.fp8?.quantizedModules ?? candidate.packed?.quantizedModules ?? []
        let config: JSONValue
        do {
            config = try PackedLinearLayout.quantizationConfig(directory: directory).json
        } catch {
            return StructuralCheck(name: "loads-in-vllm", passed: false, detail: "the quantization_config cannot be read: \(OutputError.plainReason(error))")
        }
        let input = PackedExport.loaderInput(quantizationConfig: config, configuration: candidate.configuration, quantized: quantized)
        let problems = VLLMRules.pinned.flatMap { $0.violations(input) }.map(\.description)
        return summarised("loads-in-vllm", problems: problems,
                          passing: "accepted by the rules of \(VLLMRules.pinned.map(\.loader).joined(separator: ", ")) (quant_method "
                            + "\(config["quant_method"]?.string ?? "?"), \(quantized.count) quantized Linears)")
    }
}

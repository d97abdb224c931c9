import Foundation
import QuantGateAssessment
import QuantGateModel
import QuantGateQuantize
import QuantGateTensors
import QuantGateTokenizer

/// `--dry-run` of `quantize`, `eval` and `pipeline`: the estimated peak memory and seconds of every stage, under
/// the names a run records in its `--json` output's `run.stages`, from the model's shapes and speeds measured
/// here and now. Reads config.json, the safetensors headers, the tokenizer, the texts and one block; writes nothing.
struct DryRun: Encodable {
    var estimate: RunEstimate
    /// The speeds the estimate rests on.
    var rates: MachineRates

    /// The model a dry run estimates for: its configuration (config and headers only, nothing scanned), its
    /// largest stored tensor, and this machine's speeds on its weights.
    struct Checkpoint {
        var path: String
        var configuration: LlamaConfiguration
        var source: QuantizeEstimate.Source
        var rates: MachineRates

        /// A source checkpoint directory.
        init(_ path: String) throws {
            let directory = try ModelDirectory(path: path)
            self.path = path
            configuration = directory.configuration
            source = QuantizeEstimate.Source(largestTensorBytes: directory.checkpoint.tensors.map(\.byteCount).max() ?? 0)
            rates = try MachineRates.measure(configuration: configuration, source: directory.checkpoint)
        }

        /// Any model `eval` reads (a quantized one's largest tensor counted as dequantized whole).
        init(artefact: ModelArtefact) throws {
            path = artefact.path
            configuration = artefact.configuration
            let largest = artefact.source.map { $0.checkpoint.tensors.map(\.byteCount).max() ?? 0 } ?? configuration.vocabularyMatrixBytes
            source = QuantizeEstimate.Source(largestTensorBytes: largest)
            rates = try MachineRates.measure(configuration: configuration, source: artefact.weights)
        }

        /// The calibration windows' lengths, as the run would sample them.
        func calibrationWindows(_ data: CalibrationDataOptions) throws -> [Int] {
            let tokenizer = try Tokenizer(directory: path)
            return try data.load(tokenizer: tokenizer, configuration: configuration).windows.map(\.count)
        }

        /// The stages of writing `artefact`, as the quantize jobs run them.
        func quantizeEstimate(_ artefact: ArtefactChoice, scope: FlagScope, importanceFromData: Bool, gptq: GPTQOptions,
                              awq: AWQOptions, windows: () throws -> [Int]) throws -> RunEstimate {
            let calibrates = scope.calibrates(artefact, importanceFromData: importanceFromData)
            let method: QuantizeEstimate.Method
            switch artefact {
            case .gguf(let type): method = .gguf(type, calibrates: calibrates)
            case .fp8: method = .fp8(calibrates: calibrates)
            case .gptq: method = .gptq(calibrates ? gptq.solverSettings(scope.grid) : nil, trueSequential: gptq.trueSequential)
            case .awq: method = .awq(calibrates ? try awq.settings(scope.grid) : nil)
            }
            return QuantizeEstimate.run(method, configuration: configuration, source: source,
                                        windows: calibrates ? try windows() : [], rates: rates)
        }
    }

    /// Prints the estimate: a table, or with `json` an object with `estimate`, `rates` and `run`.
    func emit(json: Bool) throws {
        if json { return try JSONOutput.print(self) }
        print(estimate.text)
        print(String(format: "rates: f32 GEMM %.0f GFLOP/s, f64 factorization %.1f GFLOP/s, %.2f ns per parameter read and converted; "
                     + "process base %.2f GB (OpenBLAS %@)", rates.gemmGFLOPS, rates.factorGFLOPS, rates.secondsPerParameter * 1e9,
                     Double(rates.baseResidentBytes) / 1e9, OpenBLASKernels.current.summary))
    }
}

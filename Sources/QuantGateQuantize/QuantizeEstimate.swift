import CKernels
import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateTensors

/// What `quantize` will cost, stage by stage, before running it (`--dry-run`): the stages a run records in
/// `run.stages` under the same names, with their peak memory and seconds from the model's shapes (the
/// formulas of docs/performance.md) and speeds measured on this machine (``MachineRates``).
public enum QuantizeEstimate {
    /// The method and the settings that change its cost.
    public enum Method: Sendable {
        /// A GGUF mixture, with an importance matrix measured on calibration data or not.
        case gguf(GGUFFileType, calibrates: Bool)
        /// FP8, with static input scales measured on calibration data or not.
        case fp8(calibrates: Bool)
        /// GPTQ (nil settings: round to nearest); `trueSequential` re-measures each input after the Linears before it.
        case gptq(GPTQSolverSettings?, trueSequential: Bool)
        /// AWQ (nil settings: round to nearest).
        case awq(AWQSettings?)
    }

    /// The sizes of the checkpoint the estimate needs beyond its configuration.
    public struct Source: Sendable {
        /// The largest tensor's stored bytes (mapped while it is read).
        public var largestTensorBytes: Int
        public init(largestTensorBytes: Int) { self.largestTensorBytes = largestTensorBytes }
    }

    /// The stages of quantizing a model of configuration `c` by `method` on calibration windows of `windows`
    /// tokens each.
    public static func run(_ method: Method, configuration c: LlamaConfiguration, source: Source, windows: [Int],
                           rates: MachineRates) -> RunEstimate {
        let base = rates.baseResidentBytes
        let loadAll = rates.conversionSeconds(c.parameterCount)
        let check = StageEstimate.sourceCheck(c, largestTensorBytes: source.largestTensorBytes, rates: rates)
        // Writing converts each tensor kept in the source dtype (the embeddings and head are the largest).
        let write = StageEstimate(name: "write", peakRSSBytes: base + c.vocabularyMatrixBytes, seconds: loadAll,
                                  basis: "every tensor read again, the largest converted whole")
        switch method {
        case .gguf(let type, let calibrates):
            let rate = type.isQuantized ? quantizeMBps(type.defaultType, importance: calibrates) : nil
            let quantize = StageEstimate(
                name: "quantize", peakRSSBytes: base + c.vocabularyMatrixBytes * 3 / 2,
                seconds: loadAll + (rate.map { Double(c.parameterCount * 4) / ($0 * 1e6) } ?? 0),
                basis: "one tensor at a time" + (rate.map { String(format: "; %@ at %.0f MB/s of f32 on all cores", type.defaultType.name, $0) } ?? ""))
            return RunEstimate(stages: [check] + (calibrates ? [calibration(c, windows: windows, rates: rates)] : []) + [quantize])
        case .fp8(let calibrates):
            return RunEstimate(stages: [check] + (calibrates ? [calibration(c, windows: windows, rates: rates)] : []) + [write])
        case .gptq(let settings, let trueSequential):
            guard settings != nil else { return RunEstimate(stages: [check, roundToNearest(c, rates: rates, name: "gptq"), write]) }
            return RunEstimate(stages: [check, gptq(c, windows: windows, trueSequential: trueSequential, rates: rates), write])
        case .awq(let settings):
            guard let settings else { return RunEstimate(stages: [check, roundToNearest(c, rates: rates, name: "awq"), write]) }
            return RunEstimate(stages: [check, awq(c, settings: settings, windows: windows, rates: rates), write])
        }
    }

    /// The calibration pass of a GGUF importance matrix or FP8 input scales (statistics, no Hessians).
    static func calibration(_ c: LlamaConfiguration, windows: [Int], rates: MachineRates) -> StageEstimate {
        let preflight = Preflight.estimate(configuration: c, windows: windows, hessian: false, sequential: false, resident: false,
                                           forwardTokensPerSecond: forwardTokensPerSecond(c, windows: windows, rates: rates))
        return StageEstimate(name: "calibrate", peakRSSBytes: rates.baseResidentBytes + preflight.peakBytes, seconds: preflight.seconds,
                             basis: "\(windows.count) windows through every block, layer by layer")
    }

    /// Calibration forward speed: every window through every block, each block converted once.
    static func forwardTokensPerSecond(_ c: LlamaConfiguration, windows: [Int], rates: MachineRates) -> Double {
        let seconds = blockPassSeconds(c, windows: windows, rates: rates)
        return Double(windows.reduce(0, +)) / max(seconds, 1e-9)
    }

    /// Seconds for every window through every block (no head), each block converted once.
    static func blockPassSeconds(_ c: LlamaConfiguration, windows: [Int], rates: MachineRates) -> Double {
        let flops = windows.reduce(0.0) { $0 + c.windowFLOPs(tokens: $1, scored: 0) }
        return rates.gemmSeconds(flops) + rates.conversionSeconds(LlamaModel.blockParameterCount(c) * c.layerCount)
    }

    static func roundToNearest(_ c: LlamaConfiguration, rates: MachineRates, name: String) -> StageEstimate {
        StageEstimate(name: name, peakRSSBytes: rates.baseResidentBytes + 2 * c.blockWeightBytes,
                      seconds: 2 * rates.conversionSeconds(LlamaModel.blockParameterCount(c) * c.layerCount),
                      basis: "round to nearest, a block at a time")
    }

    /// GPTQ block by block: the windows' forward, each input's Hessian sum, its f64 factorization, the
    /// Linears' sweeps (2 · rows · columns² FLOPs each, lazy batches in f32 GEMMs).
    static func gptq(_ c: LlamaConfiguration, windows: [Int], trueSequential: Bool, rates: MachineRates) -> StageEstimate {
        let tokens = Double(windows.reduce(0, +))
        let points = LinearInput.allCases
        // Output rows of each Linear of block 0, from the tensor layout config.json implies.
        let shapes = Dictionary(c.expectedTensors.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        func outputs(of stem: String) -> Int { shapes["model.layers.0.\(stem).weight"]?.first ?? 0 }
        var hessianFLOPs = 0.0, factorFLOPs = 0.0, sweepFLOPs = 0.0
        for point in points {
            let n = Double(point.width(c))
            hessianFLOPs += n * (n + 1) * tokens
            factorFLOPs += 2 * n * n * n / 3
            let rows = Double(point.linears.reduce(0) { $0 + outputs(of: $1) })
            sweepFLOPs += 2 * rows * n * n
        }
        let perBlock = rates.gemmSeconds(hessianFLOPs + sweepFLOPs) + factorFLOPs / (rates.factorGFLOPS * 1e9)
        let forward = blockPassSeconds(c, windows: windows, rates: rates) * (trueSequential ? 1 : 2)
        let widest = Double(points.map { $0.width(c) }.max() ?? 0)
        let states = Int(tokens) * (c.hiddenSize + Int(widest)) * 4
        return StageEstimate(name: "gptq", peakRSSBytes: rates.baseResidentBytes + 2 * c.blockWeightBytes + states + Int(16 * widest * widest),
                             seconds: forward + perBlock * Double(c.layerCount),
                             basis: String(format: "%d windows; per block %.0f s of Hessians, factorizations and sweeps", windows.count, perBlock))
    }

    /// AWQ block by block: the windows' forward on full-precision activations, then per scaling group a
    /// `grid`-point α search (the inspected module run on every window per candidate) and the clip search.
    static func awq(_ c: LlamaConfiguration, settings: AWQSettings, windows: [Int], rates: MachineRates) -> StageEstimate {
        let tokens = Double(windows.reduce(0, +))
        let h = Double(c.hiddenSize), f = Double(c.intermediateSize)
        let attention = Double(LlamaModel.blockParameterCount(c)) - 3 * h * f
        let attentionScores = windows.reduce(0.0) { $0 + 2 * 2 * Double(c.headCount * c.headDim) * Double($1) * Double($1 + 1) / 2 }
        let output = Double(c.headCount * c.headDim) * h
        let vScalesO = c.kvHeadCount == c.headCount
        // The α search: every candidate runs the inspected module over every window.
        var inspected = 2 * tokens * (attention + 3 * h * f + h * f) + attentionScores
        if vScalesO { inspected += 2 * tokens * output }
        let search = settings.searchScales ? Double(settings.grid) * inspected : 0
        // The clip search: every clamp candidate of every Linear but q/k on `clipTokens` tokens.
        let clipped = output + 3 * h * f + Double(c.kvHeadCount * c.headDim) * h
        let clip = settings.clip ? 2 * Double(settings.clipSteps) * clipped * Double(min(settings.clipTokens, Int(tokens))) : 0
        let perBlock = rates.gemmSeconds(search + clip)
        let states = Int(tokens) * (2 * c.hiddenSize + c.intermediateSize + c.hiddenSize) * 4
        return StageEstimate(name: "awq", peakRSSBytes: rates.baseResidentBytes + 2 * c.blockWeightBytes + states,
                             seconds: 2 * blockPassSeconds(c, windows: windows, rates: rates) + perBlock * Double(c.layerCount),
                             basis: String(format: "%d windows; per block %.0f s of α and clip searches", windows.count, perBlock))
    }

    /// Single-core quantization speed of `type` (MB/s of f32 input) on 64 × 4096 seeded values, times the cores
    /// (the exporter quantizes rows in parallel).
    static func quantizeMBps(_ type: GGMLType, importance: Bool) -> Double {
        let (rows, columns) = (64, 4096)
        let x = BenchmarkTiming.weights(count: rows * columns, seed: 11)
        let weights = [Float](repeating: 1, count: columns)
        var out = [UInt8](repeating: 0, count: max(type.rowBytes(columns), columns * 4) * rows)
        let seconds = BenchmarkTiming.best(2) {
            _ = qg_quantize_rows(Int32(type.rawValue), x, &out, Int64(rows), Int64(columns), importance ? weights : nil)
        }
        return Double(x.count * 4) / max(seconds, 1e-9) / 1e6 * Double(ProcessInfo.processInfo.activeProcessorCount)
    }
}

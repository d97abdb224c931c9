import Dispatch
import QuantGateModel
import QuantGateTensors

/// Replaces a block's weights once its input statistics are known (GPTQ, AWQ). Block `k + 1` is
/// then calibrated on what the replaced block `k` outputs.
public protocol BlockQuantizer {
    /// - Parameters:
    ///   - layer: the block index.
    ///   - weights: the block's current weights.
    ///   - statistics: its input statistics, measured on the outputs of the already replaced blocks.
    ///   - inputs: the hidden states entering the block, one `[L, hidden]` matrix per window.
    /// - Returns: replacement weights, or nil to keep `weights`.
    func quantize(layer: Int, weights: LlamaBlockWeights, statistics: BlockStatistics, inputs: [Matrix]) throws
        -> LlamaBlockWeights?

    /// Whether the calibrator measures the block before calling ``quantize(layer:weights:statistics:inputs:)``.
    /// A quantizer that measures each input itself (stepping through the block with `BlockRun`) says false
    /// and receives statistics without inputs; the sink then gets the block's output statistics only.
    var needsMeasuringPass: Bool { get }

    /// The block's outputs on `inputs` with the replaced weights, when the last `quantize` computed them on
    /// the way (the calibrator then skips its own pass with the new weights); nil otherwise.
    func takeOutputs() -> [Matrix]?
}

extension BlockQuantizer {
    public var needsMeasuringPass: Bool { true }
    public func takeOutputs() -> [Matrix]? { nil }
}

/// Where a calibration run is, for progress displays.
public struct CalibrationProgress: Sendable {
    /// The block being run and the number of blocks.
    public var layer: Int, layers: Int
    /// Windows done in this block's pass and windows per pass.
    public var window: Int, windows: Int
    /// Tokens through blocks so far (a token through every block counts once) and the total to do.
    public var tokensDone: Double, tokensTotal: Double
    /// Seconds since the run began.
    public var seconds: Double
}

/// Calibration failures that are not the input's fault.
public enum CalibrationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A block produced NaN or infinite activations.
    case nonFinite(layer: Int)
    /// No windows to run.
    case noWindows

    public var description: String {
        switch self {
        case .nonFinite(let layer):
            "model.layers.\(layer) produced NaN or infinite activations on the calibration data"
        case .noWindows: "no calibration windows: the data hold no tokens"
        }
    }
}

/// Runs calibration windows through a model one decoder block at a time and measures every
/// Linear's input.
///
/// Memory holds the hidden states of all windows for one block, plus that block's weights
/// (streamed from the checkpoint unless the model keeps them resident). Without a quantizer each
/// block runs once, measuring as it goes. With one (sequential mode), block `k` first runs to
/// measure its inputs, the quantizer replaces its weights, and it runs again with the new weights
/// to produce the inputs of block `k + 1`.
public final class Calibrator {
    public let model: LlamaModel
    /// Whether to accumulate `XᵀX` (GPTQ) besides the per-channel statistics.
    public let collectHessian: Bool
    /// Block passes run so far (one block over all windows counts one); a cache hit runs none.
    public private(set) var blockPasses = 0
    /// Seconds spent accumulating Hessians, for the benchmark.
    public private(set) var hessianSeconds = 0.0

    public init(model: LlamaModel, collectHessian: Bool) {
        self.model = model
        self.collectHessian = collectHessian
    }

    /// Calibrates on `windows` (token ids, each run from position 0), handing each block's
    /// statistics to `sink` in block order.
    /// - Throws: ``CalibrationError``, the model's errors (a token outside the vocabulary, a window
    ///   longer than the sliding window), or what `quantizer` or `sink` throw.
    public func run(windows: [[Int]], quantizer: (any BlockQuantizer)? = nil,
                    progress: ((CalibrationProgress) -> Void)? = nil,
                    sink: (BlockStatistics) throws -> Void) throws {
        guard !windows.isEmpty, windows.allSatisfy({ !$0.isEmpty }) else { throw CalibrationError.noWindows }
        let c = model.configuration
        if let window = c.slidingWindow, let longest = windows.map(\.count).max(), longest > window {
            throw ModelError.unsupportedSetting(
                file: "config.json", field: "sliding_window", value: "\(window) (calibration windows of \(longest) tokens)",
                supported: ["--seq-len of at most sliding_window"])
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let tokensPerPass = Double(windows.reduce(0) { $0 + $1.count })
        let passesPerBlock = quantizer?.needsMeasuringPass == true ? 2.0 : 1.0
        let tokensTotal = tokensPerPass * Double(c.layerCount) * passesPerBlock
        var tokensDone = 0.0
        func report(layer: Int, window: Int) {
            guard let progress else { return }
            progress(CalibrationProgress(
                layer: layer, layers: c.layerCount, window: window, windows: windows.count,
                tokensDone: tokensDone, tokensTotal: tokensTotal,
                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
        }

        var hidden = try windows.map { try model.embed($0) }
        for layer in 0..<c.layerCount {
            var weights = try model.blockWeights(layer)
            // A quantizer that measures each input itself gets no measuring pass: no accumulators (a 14336-wide
            // input's Hessian sums alone are 2.5 GB).
            let measures = quantizer?.needsMeasuringPass ?? true
            var accumulators = measures ? LinearInput.allCases.map { ChannelAccumulator(width: $0.width(c), hessian: collectHessian) } : []
            var output = ChannelAccumulator(width: c.hiddenSize, hessian: false)
            let observe: (LinearInput, Matrix) -> Void = { point, x in accumulators[point.rawValue].add(x) }
            // The input statistics are final after the measuring pass; each is finished (Hessian means
            // included) exactly once, and reused for the quantizer and the sink. The sums go as soon as they are.
            func finishedInputs() -> [LinearInputStatistics] {
                defer {
                    hessianSeconds += accumulators.reduce(0) { $0 + $1.hessianSeconds }
                    accumulators = []
                }
                return LinearInput.allCases.map { LinearInputStatistics(point: $0, statistics: accumulators[$0.rawValue].finish()) }
            }
            let inputs: [LinearInputStatistics]
            switch quantizer {
            case nil:
                for w in hidden.indices {
                    model.runBlock(weights: weights, hidden: &hidden[w], observe: observe)
                    try check(hidden[w], layer: layer)
                    output.add(hidden[w])
                    tokensDone += Double(hidden[w].rows)
                    report(layer: layer, window: w + 1)
                }
                blockPasses += 1
                inputs = finishedInputs()
            case let quantizer?:
                if quantizer.needsMeasuringPass {
                    for w in hidden.indices {
                        var scratch = hidden[w]
                        model.runBlock(weights: weights, hidden: &scratch, observe: observe)
                        tokensDone += Double(scratch.rows)
                        report(layer: layer, window: w + 1)
                    }
                    blockPasses += 1
                    inputs = finishedInputs()
                } else {
                    inputs = []
                }
                let measured = BlockStatistics(layer: layer, inputs: inputs, output: output.finish())
                if let replaced = try quantizer.quantize(layer: layer, weights: weights, statistics: measured, inputs: hidden) {
                    weights = replaced
                }
                let computed = quantizer.takeOutputs()
                for w in hidden.indices {
                    if let computed { hidden[w] = computed[w] } else { model.runBlock(weights: weights, hidden: &hidden[w]) }
                    try check(hidden[w], layer: layer)
                    output.add(hidden[w])
                    tokensDone += Double(hidden[w].rows)
                    report(layer: layer, window: w + 1)
                }
                blockPasses += 1
            }
            try sink(BlockStatistics(layer: layer, inputs: inputs, output: output.finish()))
        }
    }

    private func check(_ hidden: Matrix, layer: Int) throws {
        guard hidden.values.allSatisfy(\.isFinite) else { throw CalibrationError.nonFinite(layer: layer) }
    }
}

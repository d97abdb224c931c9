import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateTensors

/// What AWQ did to one scaling group of a block.
public struct AWQGroupReport: Codable, Sendable, Equatable {
    /// The op that absorbed the inverse scales (`model.layers.N.input_layernorm`, `…v_proj`).
    public var previous: String
    /// The scaled Linears.
    public var linears: [String]
    /// The chosen α; nil when the group is not scaled (round to nearest, or v → o under grouped-query attention).
    public var ratio: Double?
    /// The module-output MSE at the chosen α and at α = 0.
    public var loss: Double?, lossAtZero: Double?
    /// The range of the chosen scales.
    public var minScale: Float?, maxScale: Float?
}

/// One Linear as AWQ leaves it.
public struct AWQLinearResult: Sendable {
    public let module: String
    public let linear: GroupQuantizedLinear
    /// The bias after scaling (v_proj's and up_proj's absorb the next group's inverse scales).
    public let bias: [Float]?
    /// The mean clamp bound relative to the group's max |w| (1: no clipping); nil when not searched.
    public let clipRatio: Double?
}

/// One block as AWQ leaves it: the norms that absorbed the scales and the quantized Linears.
public struct AWQBlockResult: Sendable {
    public let layer: Int
    public let inputNorm: [Float], postAttentionNorm: [Float]
    public let linears: [AWQLinearResult]
    public let groups: [AWQGroupReport]
}

/// AWQ inside block-by-block calibration (AutoAWQ's `AwqQuantizer.quantize`): for each block, every
/// scaling group's α search on the block's full-precision inputs, the scales applied (previous op ÷ s,
/// Linear columns × s), the clip search on the scaled weights and inputs, then the grid. The next block's
/// inputs are this block's full-precision outputs, as AutoAWQ propagates them (the scaling is exact in
/// float; only the rounding would differ).
public final class AWQBlockQuantizer: BlockQuantizer {
    public let model: LlamaModel
    public let settings: AWQSettings
    /// Receives each block's result in block order, as soon as it is quantized (the quantizer keeps none).
    private let consume: (AWQBlockResult) throws -> Void
    /// Called after each scaling group's search and after each Linear's quantization.
    private let progress: ((String) -> Void)?
    private var outputs: [Matrix]?

    /// Progress events per block (four searches, seven Linears).
    public static let eventsPerBlock = 11

    /// - Parameters:
    ///   - consume: receives each block's result in block order; what it throws stops the calibration.
    ///   - progress: called with the module's name after each scaling group's search and each Linear's quantization.
    public init(model: LlamaModel, settings: AWQSettings, progress: ((String) -> Void)? = nil,
                consume: @escaping (AWQBlockResult) throws -> Void) {
        (self.model, self.settings, self.progress, self.consume) = (model, settings, progress, consume)
    }

    /// The quantizer steps through each block itself.
    public var needsMeasuringPass: Bool { false }

    public func takeOutputs() -> [Matrix]? {
        defer { outputs = nil }
        return outputs
    }

    public func quantize(layer: Int, weights fp: LlamaBlockWeights, statistics: BlockStatistics, inputs: [Matrix]) throws -> LlamaBlockWeights? {
        let c = model.configuration
        let prefix = "model.layers.\(layer)."
        var runs = inputs.map(BlockRun.init)
        var choices: [[Float]?] = []
        var reports: [AWQGroupReport] = []
        // Per clipped Linear, its group's XᵀX over the clip sample of its scaled input (shared by gate and up).
        var clipGrams: [String: [Float]] = [:]
        for group in AWQScalingGroup.llama {
            for w in runs.indices { model.advance(&runs[w], weights: fp) }
            let xs = runs.map { $0.input! }
            var report = AWQGroupReport(previous: prefix + group.previous.name, linears: group.linears.map { prefix + $0.stem })
            var scales: [Float]?
            if settings.searchScales && group.applies(to: c) {
                let reference = xs.map { group.inspected.output(model, fp, $0) }
                let choice = try AWQScaleSearch.search(
                    inputs: xs, weights: group.linears.map { fp[keyPath: $0.weight] }, columns: group.point.width(c), settings: settings,
                    reference: reference, module: prefix + group.linears[0].stem
                ) { window, replaced in
                    var candidate = fp
                    for (linear, weight) in zip(group.linears, replaced) { candidate[keyPath: linear.weight] = weight }
                    return group.inspected.output(model, candidate, xs[window])
                }
                scales = choice.scales
                report.ratio = choice.ratio
                report.loss = choice.loss
                report.lossAtZero = choice.losses.first.flatMap { $0.isFinite ? $0 : nil }
                report.minScale = choice.scales.min()
                report.maxScale = choice.scales.max()
            }
            if settings.clip {
                let grams = AWQGrid.groupGrams(sample: Self.clipSample(xs, dividedBy: scales, tokens: settings.clipTokens),
                                               groupSize: settings.groupSize)
                for linear in group.linears where AWQScalingGroup.clips(linear.stem) { clipGrams[linear.stem] = grams }
            }
            choices.append(scales)
            reports.append(report)
            progress?(prefix + group.linears[0].stem)
        }
        for w in runs.indices { model.advance(&runs[w], weights: fp) }
        outputs = runs.map(\.hidden)

        var block = fp
        for (group, scales) in zip(AWQScalingGroup.llama, choices) {
            if let scales { group.apply(scales, to: &block) }
        }
        let linears = Self.quantizeLinears(layer: layer, block, configuration: c, clipGrams: clipGrams, settings: settings, progress: progress)
        try consume(AWQBlockResult(layer: layer, inputNorm: block.inputNorm, postAttentionNorm: block.postAttentionNorm,
                                   linears: linears, groups: reports))
        // The calibrator takes the full-precision outputs (takeOutputs), never a block with these weights.
        return nil
    }

    /// Round to nearest on AWQ's grid, without calibration: block `layer` as AWQ with no scales and no clipping leaves it.
    public static func roundToNearest(layer: Int, weights: LlamaBlockWeights, configuration c: LlamaConfiguration, groupSize: Int) -> AWQBlockResult {
        let linears = quantizeLinears(layer: layer, weights, configuration: c, clipGrams: [:], settings: .roundToNearest(groupSize: groupSize),
                                      progress: nil)
        let prefix = "model.layers.\(layer)."
        return AWQBlockResult(layer: layer, inputNorm: weights.inputNorm, postAttentionNorm: weights.postAttentionNorm, linears: linears,
                              groups: AWQScalingGroup.llama.map { AWQGroupReport(previous: prefix + $0.previous.name, linears: $0.linears.map { prefix + $0.stem }) })
    }

    /// Clips (where `clipGrams` has the Gram matrices of the Linear's scaled inputs) and quantizes every Linear of the scaled `block`.
    private static func quantizeLinears(layer: Int, _ block: LlamaBlockWeights, configuration c: LlamaConfiguration, clipGrams: [String: [Float]],
                                        settings: AWQSettings, progress: ((String) -> Void)?) -> [AWQLinearResult] {
        let g = settings.groupSize
        var linears: [AWQLinearResult] = []
        for group in AWQScalingGroup.llama {
            let columns = group.point.width(c)
            for linear in group.linears {
                let module = "model.layers.\(layer).\(linear.stem)"
                var w = block[keyPath: linear.weight]
                let rows = w.count / columns
                var clipRatio: Double?
                if let grams = clipGrams[linear.stem] {
                    let bounds = AWQGrid.clipBounds(w, rows: rows, columns: columns, groupSize: g, grams: grams,
                                                    steps: settings.clipSteps, grid: settings.clipGrid)
                    clipRatio = meanRatio(bounds, of: w, columns: columns, groupSize: g)
                    AWQGrid.clip(&w, columns: columns, groupSize: g, bounds: bounds)
                }
                let quantized = AWQGrid.quantize(w, rows: rows, columns: columns, groupSize: g)
                linears.append(AWQLinearResult(module: module, linear: quantized, bias: block[keyPath: linear.bias], clipRatio: clipRatio))
                progress?(module)
            }
        }
        return linears
    }

    /// Every `tokens / count`-th row of the windows taken as one sequence (AutoAWQ's `input_feat[:, ::step]`),
    /// divided column-wise by the group's scales.
    public static func clipSample(_ xs: [Matrix], dividedBy scales: [Float]?, tokens count: Int) -> Matrix {
        let width = xs[0].columns
        let total = xs.reduce(0) { $0 + $1.rows }
        let step = max(1, total / count)
        var values: [Float] = []
        var index = 0
        for x in xs {
            for r in 0..<x.rows {
                defer { index += 1 }
                guard index % step == 0 else { continue }
                let row = x.values[(r * width)..<((r + 1) * width)]
                if let scales { values.append(contentsOf: zip(row, scales).map { $0 / $1 }) } else { values.append(contentsOf: row) }
            }
        }
        return Matrix(rows: values.count / width, columns: width, values: values)
    }

    /// Mean of bound / max|w| over the (row, group)s that are not all zero.
    static func meanRatio(_ bounds: [Float], of w: [Float], columns: Int, groupSize g: Int) -> Double {
        var (sum, count) = (0.0, 0)
        for (index, bound) in bounds.enumerated() {
            let (r, group) = (index / (columns / g), index % (columns / g))
            let top = w[(r * columns + group * g)..<(r * columns + (group + 1) * g)].reduce(Float(0)) { max($0, abs($1)) }
            if top > 0 { (sum, count) = (sum + Double(bound / top), count + 1) }
        }
        return count == 0 ? 1 : sum / Double(count)
    }
}

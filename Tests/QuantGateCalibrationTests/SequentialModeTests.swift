import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// Sequential mode: block k + 1 must see what block k outputs after the quantizer replaced its weights.
@Suite("Calibrator sequential mode")
struct SequentialModeTests {
    /// Halves every block's down_proj and records what it was given.
    final class HalvingQuantizer: BlockQuantizer {
        var calls: [(layer: Int, tokens: Int, inputs: Int)] = []
        func quantize(layer: Int, weights: LlamaBlockWeights, statistics: BlockStatistics, inputs: [Matrix]) throws
            -> LlamaBlockWeights? {
            calls.append((layer, statistics.input(of: "mlp.down_proj")?.tokens ?? -1, inputs.count))
            var replaced = weights
            replaced.down = weights.down.map { $0 * 0.5 }
            return replaced
        }
    }

    static func windows(_ vocabulary: Int) -> [[Int]] {
        var generator = SplitMix64(seed: 7)
        return (0..<3).map { _ in (0..<40).map { _ in Int(generator.next() % UInt64(vocabulary)) } }
    }

    @Test("inputs of block k + 1 are the outputs of the replaced block k")
    func replacedWeightsFeedTheNextBlock() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Fixtures.exampleModel.path))
        let windows = Self.windows(model.configuration.vocabSize)
        let quantizer = HalvingQuantizer()
        let calibrator = Calibrator(model: model, collectHessian: false)
        var sequential: [BlockStatistics] = []
        try calibrator.run(windows: windows, quantizer: quantizer) { sequential.append($0) }
        #expect(quantizer.calls.map(\.layer) == Array(0..<model.configuration.layerCount))
        #expect(quantizer.calls.allSatisfy { $0.tokens == 120 && $0.inputs == 3 })
        #expect(calibrator.blockPasses == 2 * model.configuration.layerCount)

        // The same thing by hand: every block runs with its down_proj halved; measure block 1's inputs.
        var expected = [ChannelStatistics?](repeating: nil, count: LinearInput.allCases.count)
        var sums = LinearInput.allCases.map { _ in [Matrix]() }
        for window in windows {
            var hidden = try model.embed(window)
            var block0 = try model.blockWeights(0)
            block0.down = block0.down.map { $0 * 0.5 }
            model.runBlock(weights: block0, hidden: &hidden)
            model.runBlock(weights: try model.blockWeights(1), hidden: &hidden) { point, x in sums[point.rawValue].append(x) }
        }
        for point in LinearInput.allCases {
            let rows = sums[point.rawValue]
            let width = rows[0].columns
            var meanAbs = [Double](repeating: 0, count: width)
            for x in rows {
                for r in 0..<x.rows { for c in 0..<width { meanAbs[c] += Double(abs(x.values[r * width + c])) } }
            }
            expected[point.rawValue] = ChannelStatistics(tokens: 120, meanAbs: meanAbs.map { Float($0 / 120) }, maxAbs: [], meanSquare: [])
        }
        for input in sequential[1].inputs {
            let want = try #require(expected[input.point.rawValue])
            #expect(input.statistics.tokens == want.tokens)
            let worst = zip(input.statistics.meanAbs, want.meanAbs).map { abs($0 - $1) / max(abs($1), 1e-30) }.max() ?? 1
            #expect(worst < 1e-6, "block 1 \(input.point): \(worst)")
        }

        // Block 0's inputs do not depend on the quantizer; block 1's differ from the plain run.
        var plain: [BlockStatistics] = []
        try Calibrator(model: model, collectHessian: false).run(windows: windows) { plain.append($0) }
        #expect(plain[0].inputs == sequential[0].inputs)
        #expect(plain[1].inputs[0].statistics.meanAbs != sequential[1].inputs[0].statistics.meanAbs)
    }

    @Test("an empty window list is an error, not an empty result")
    func noWindows() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Fixtures.exampleModel.path))
        #expect(throws: CalibrationError.noWindows) {
            try Calibrator(model: model, collectHessian: false).run(windows: []) { _ in }
        }
    }

    @Test("the Hessian is symmetric, its diagonal is the mean square, and statistics are deterministic")
    func hessianConsistency() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Fixtures.root.appendingPathComponent("tiny-llama-linear").path))
        let windows = Self.windows(model.configuration.vocabSize)
        var first: [BlockStatistics] = [], second: [BlockStatistics] = []
        try Calibrator(model: model, collectHessian: true).run(windows: windows) { first.append($0) }
        try Calibrator(model: model, collectHessian: true).run(windows: windows) { second.append($0) }
        #expect(first == second)
        for input in first.flatMap(\.inputs) {
            let s = input.statistics
            let h = try #require(s.hessian)
            let n = s.width
            for i in 0..<n {
                #expect(abs(h[i * n + i] - s.meanSquare[i]) <= 1e-5 * max(s.meanSquare[i], 1e-30))
                for j in 0..<i { #expect(h[i * n + j] == h[j * n + i]) }
                #expect(s.meanAbs[i] <= s.maxAbs[i] && s.meanAbs[i] * s.meanAbs[i] <= s.meanSquare[i] * (1 + 1e-5))
            }
        }
    }
}

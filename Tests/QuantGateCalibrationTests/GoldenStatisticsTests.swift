import QuantGateHDF5
import Foundation
@testable import QuantGateCalibration
import QuantGateModel
import QuantGateTestSupport
import Testing

/// The calibrator's statistics against an independent PyTorch reference: transformers' model with
/// forward hooks on every Linear and block, accumulating in f64 (Tools/calibration_reference.py
/// --golden, which also documents how the 8 × 128 windows of the built-in prose set were cut).
@Suite("Calibration statistics vs PyTorch forward hooks")
struct GoldenStatisticsTests {
    static let tolerance: Float = 1e-4

    @Test("every statistic of every block matches to 1e-4 relative", arguments: ["bard-5m", "tiny-qwen2-mqa"])
    func matchesReference(model name: String) throws {
        let golden = try HDF5File.open(Fixtures.golden("calibration_\(name).h5").path)
        let (shape, ids) = try golden.readIntegers("tokens")
        let windows = (0..<shape[0]).map { row in ids[(row * shape[1])..<((row + 1) * shape[1])].map { Int($0) } }
        let directory = try ModelDirectory(path: Fixtures.root.appendingPathComponent(name).path)
        let calibrator = Calibrator(model: try LlamaModel(directory: directory), collectHessian: true)
        var blocks: [BlockStatistics] = []
        try calibrator.run(windows: windows) { blocks.append($0) }
        #expect(blocks.count == directory.configuration.layerCount)
        for block in blocks {
            for input in block.inputs {
                let group = StatisticsLayout.group(layer: block.layer, input.point)
                try compare(input.statistics, golden: golden, group: group, hessian: true)
            }
            try compare(block.output, golden: golden, group: StatisticsLayout.output(layer: block.layer), hessian: false)
        }
    }

    private func compare(_ ours: ChannelStatistics, golden: HDF5File, group: String, hessian: Bool) throws {
        #expect(ours.tokens == 1024, "\(group)")
        let vectors = [("mean_abs", ours.meanAbs), ("max_abs", ours.maxAbs), ("mean_sq", ours.meanSquare)]
        for (name, values) in vectors {
            let (_, expected) = try golden.readFloats("\(group)/\(name)")
            #expect(expected.count == values.count, "\(group)/\(name)")
            let worst = zip(values, expected).map { abs($0 - $1) / max(abs($1), 1e-30) }.max() ?? 0
            #expect(worst <= Self.tolerance, "\(group)/\(name): relative difference \(worst)")
        }
        guard hessian else { return }
        let matrix = try #require(ours.hessian)
        let (_, upper) = try golden.readFloats("\(group)/hessian_upper")
        let n = ours.width
        #expect(upper.count == n * (n + 1) / 2)
        var diagonal = [Float](repeating: 0, count: n)
        var k = 0
        for i in 0..<n {
            diagonal[i] = upper[k]
            k += n - i
        }
        var worst: Float = 0
        k = 0
        for i in 0..<n {
            for j in i..<n {
                let scale = max((diagonal[i] * diagonal[j]).squareRoot(), 1e-30)
                worst = max(worst, abs(matrix[i * n + j] - upper[k]) / scale, abs(matrix[j * n + i] - upper[k]) / scale)
                k += 1
            }
        }
        #expect(worst <= Self.tolerance, "\(group)/hessian: relative difference \(worst)")
    }
}

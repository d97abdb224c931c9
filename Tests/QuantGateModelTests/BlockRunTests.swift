import Foundation
import QuantGateModel
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// Stepping a block one Linear input at a time computes exactly what the block computes in one go.
@Suite("Block run")
struct BlockRunTests {
    @Test("advance through every input equals runBlock bit for bit, and each step's input equals what runBlock observes")
    func stepsEqualWholeBlock() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Fixtures.root.appendingPathComponent("tiny-llama-linear").path))
        var hidden = try model.embed([1, 17, 400, 9, 3000, 42, 7, 7])
        let weights = try model.blockWeights(0)
        var observed: [LinearInput: Matrix] = [:]
        var run = BlockRun(hidden: hidden)
        model.runBlock(weights: weights, hidden: &hidden) { point, x in observed[point] = x }
        for point in LinearInput.allCases {
            model.advance(&run, weights: weights)
            #expect(run.point == point && run.input?.values == observed[point]?.values, "\(point)")
        }
        model.advance(&run, weights: weights)
        #expect(run.finished && run.hidden.values == hidden.values)
    }
}

import ArgumentParser
import Foundation
import QuantGateModel

/// The arguments of the benches that time one decoder block of a model (`bench gptq`, `bench awq`).
struct BlockBenchOptions: ParsableArguments {
    @Argument(help: "A model directory.")
    var model: String

    @Option(help: "The decoder block that is timed.")
    var layer = 0

    @Option(help: "Seeded random tokens run through the model to the block (one window).")
    var tokens = 512

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func validate() throws {
        guard layer >= 0 else { throw ValidationError("--layer \(layer): expected a block index from 0") }
        guard tokens >= 1 && tokens <= 1 << 16 else { throw ValidationError("--tokens must be in 1...65536") }
    }

    /// The model, with `--layer` checked against it.
    func network() throws -> LlamaModel {
        let network = try LlamaModel(directory: ModelDirectory(path: model))
        guard layer >= 0, layer < network.configuration.layerCount else {
            throw ValidationError("--layer \(layer): the model has blocks 0..<\(network.configuration.layerCount)")
        }
        return network
    }
}

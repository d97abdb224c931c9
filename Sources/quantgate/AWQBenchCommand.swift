import ArgumentParser
import Foundation
import QuantGateModel
import QuantGateQuantize

/// `quantgate bench awq`.
struct AWQBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "awq",
        abstract: "AWQ time per scaling group and per Linear of a model, and the fake-quantization kernel against memcpy.",
        discussion: """
            Block --layer on --tokens seeded random tokens (one window), the l40s defaults (--group-size 128, 20-point α grid, \
            duo scaling, clip search over 10 bounds on about 512 tokens); best of 3. Per scaling group: the α search's \
            wall time, the share in the C fake-quantization kernel, and the search in units of one full-precision \
            forward of the inspected module (20 candidates make the floor about 20). Per Linear: the clip search and \
            round to nearest on the same grid. Last, the fake-quantization rate Q(W·s)/s of the block's down_proj next \
            to memcpy of the same bytes, measured in the same run.
            """)

    @OptionGroup var bench: BlockBenchOptions

    @Option(name: .customLong("group-size"), help: "Input columns per scale/zero group.")
    var groupSize = 128

    func run() throws {
        let network = try bench.network()
        let c = network.configuration
        guard groupSize > 0, [c.hiddenSize, c.headCount * c.headDim, c.intermediateSize].allSatisfy({ $0 % groupSize == 0 }) else {
            throw ValidationError("--group-size \(groupSize): must divide every Linear's inputs (\(c.hiddenSize), \(c.headCount * c.headDim), \(c.intermediateSize))")
        }
        let result = try AWQBenchmark.run(model: network, layer: bench.layer, tokens: bench.tokens, settings: AWQSettings(groupSize: groupSize))
        if bench.json { return try JSONOutput.print(result) }
        print("scaling group                                    α search ms   fake-quant   × FP forward")
        for row in result.groups {
            print(row.group.padding(toLength: 49, withPad: " ", startingAt: 0) + (row.searchSeconds.map {
                String(format: "%10.1f    %6.1f %%    %8.1f", 1000 * $0, 100 * (row.fakeQuantizeShare ?? 0), row.forwardsPerSearch ?? 0)
            } ?? "   (not scaled: v_proj and o_proj differ in shape)"))
        }
        print("\nmodule                              shape          clip ms   RTN ms   clip × RTN")
        for row in result.linears {
            print(row.module.padding(toLength: 36, withPad: " ", startingAt: 0) + "\(row.shape)".padding(toLength: 15, withPad: " ", startingAt: 0)
                + (row.clipSeconds.map { String(format: "%7.2f", 1000 * $0) } ?? "      -")
                + String(format: "  %7.3f", 1000 * row.roundToNearestSeconds)
                + (row.clipSeconds.map { String(format: "   %8.1f", $0 / max(row.roundToNearestSeconds, 1e-12)) } ?? "          -"))
        }
        print(String(format: "\nfake quantization Q(W·s)/s: %.0f MB/s; memcpy of the same bytes: %.0f MB/s (ratio %.3f)",
                     result.fakeQuantizeMBps, result.memcpyMBps, result.fakeQuantizeMBps / max(result.memcpyMBps, 1e-12)))
    }
}

import ArgumentParser
import Foundation
import QuantGateQuantize

/// `quantgate bench fp8`.
struct FP8BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fp8",
        abstract: "FP8 E4M3 quantization MB/s next to memcpy of the same bytes, and the speedup over the scalar kernels.",
        discussion: """
            One thread, 1024 × 4096 seeded f32 values, best of 5. "quantize" is what the exporter runs per Linear of a \
            bf16 model: max |w| per row, a bf16 scale, and the division, bf16 rounding and saturating E4M3 rounding of every weight; \
            "activation fake-quant" is what the evaluator runs on every FP8 Linear's input. The goal is ≥ 0.25 × memcpy.
            """)

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let (memcpy, rows) = FP8Benchmark.run()
        if json {
            struct Report: Encodable { var memcpyMBps: Double; var rows: [FP8Benchmark.Row] }
            try JSONOutput.print(Report(memcpyMBps: memcpy, rows: rows))
            return
        }
        print(String(format: "memcpy %.0f MB/s (same f32 bytes, one thread)", memcpy))
        print("operation                   MB/s   × memcpy   × scalar reference")
        for row in rows {
            print(row.operation.padding(toLength: 25, withPad: " ", startingAt: 0)
                + String(format: " %7.0f   %8.3f   %8.2f", row.megabytesPerSecond, row.ratioToMemcpy, row.speedupOverReference))
        }
    }
}

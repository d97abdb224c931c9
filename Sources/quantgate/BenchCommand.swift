import ArgumentParser
import Foundation
import QuantGateModel
import QuantGateOutput
import QuantGateTensors
import QuantGateTokenizer

/// `quantgate bench`: speed figures as ratios measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed as ratios to a baseline measured in the same run.",
        discussion: "Ratios, not raw times, are what to compare across machines.",
        subcommands: [NumericsBenchCommand.self, ForwardBenchCommand.self, TokenizerBenchCommand.self, CalibrationBenchCommand.self, QuantizeBenchCommand.self, FP8BenchCommand.self, GPTQBenchCommand.self, AWQBenchCommand.self],
        defaultSubcommand: NumericsBenchCommand.self)
}

/// `quantgate bench numerics`.
struct NumericsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numerics",
        abstract: "f16, bf16, FP8 E4M3/E5M2 ⇄ f32 conversion throughput vs memcpy and vs the scalar reference.",
        discussion: "Single-threaded; each figure is the best of 7 repeats.")

    @Option(help: "Elements per conversion (each repeat converts this many).")
    var elements: Int = 1 << 22

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard elements > 0 && elements <= 1 << 28 else { throw ValidationError("--elements must be in 1...268435456") }
    }

    func run() throws {
        let rows = ConversionBenchmark.run(elements: elements)
        if json {
            struct Report: Encodable {
                var variant: String
                var elements: Int
                var rows: [ConversionBenchmark.Row]
            }
            try JSONOutput.print(Report(variant: ConversionBenchmark.variant, elements: elements, rows: rows))
            return
        }
        print("numerics: \(elements) elements, kernel variant \(ConversionBenchmark.variant), single thread")
        print("conversion        source GB/s   × memcpy   × scalar reference")
        for row in rows {
            print(row.conversion.padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: "%11.2f   %8.2f   %8.2f", row.bytesPerSecond / 1e9, row.ratioToMemcpy, row.speedupOverReference))
        }
    }
}

/// `quantgate bench forward MODEL`.
struct ForwardBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Prefill tokens/s and GFLOP/s next to raw cblas_sgemm GFLOP/s at the model's own matrix shapes.",
        discussion: "Best of 3 prefills of --ctx random tokens after one warm-up; threads: all cores (OpenBLAS).")

    @Argument(help: "A model directory.")
    var model: String

    @Option(help: "Tokens per prefill.")
    var ctx: Int = 512

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard ctx >= 1 && ctx <= 1 << 16 else { throw ValidationError("--ctx must be in 1...65536") }
    }

    func run() throws {
        let network = try LlamaModel(directory: ModelDirectory(path: model))
        let result = try ForwardBenchmark.run(model: network, tokens: ctx)
        if json {
            try JSONOutput.print(result)
            return
        }
        print(String(format: "prefill of %d tokens: %.0f tokens/s, %.1f GFLOP/s", ctx, result.prefillTokensPerSecond, result.prefillGFLOPs))
        print(String(format: "raw cblas_sgemm on the same shapes: %.1f GFLOP/s", result.sgemmGFLOPs))
        print("OpenBLAS kernels: \(OpenBLASKernels.current.summary)")
        print(String(format: "ratio to sgemm: %.2f", result.ratioToSGEMM))
    }
}

/// `quantgate bench tokenizer MODEL --text FILE`.
struct TokenizerBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Single-threaded encode throughput (MB/s of UTF-8 input) on a text.",
        discussion: """
            One encode of the whole text with special tokens, best of --repeat after a warm-up pass \
            (which fills the BPE cache, as a long-running process has it). Compare with the Python \
            tokenizers library on the same text: python3 Tools/bench_tokenizer_python.py.
            """)

    @Argument(help: "A directory holding tokenizer.json (and optionally tokenizer_config.json).")
    var model: String

    @Option(help: "The UTF-8 text to encode.")
    var text: String

    @Option(name: .customLong("repeat"), help: "Timed repeats.")
    var repeats: Int = 5

    func validate() throws {
        guard repeats >= 1 && repeats <= 1000 else { throw ValidationError("--repeat must be in 1...1000") }
    }

    func run() throws {
        let tokenizer = try Tokenizer(directory: model)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: text)) } catch {
            throw InputError(description: "\(text): \(OutputError.plainReason(error))")
        }
        guard let content = String(data: data, encoding: .utf8) else { throw InputError(description: "\(text): is not UTF-8 text") }
        var tokens = tokenizer.encode(content).count
        var fastest = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            tokens = tokenizer.encode(content).count
            fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        print(String(format: "whole text: %.2f MB/s (%.0f ms, %d bytes → %d tokens)",
                     Double(data.count) / 1e6 / fastest, fastest * 1e3, data.count, tokens))
    }
}

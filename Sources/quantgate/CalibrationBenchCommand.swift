import ArgumentParser
import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateQuantize
import QuantGateTokenizer

/// `quantgate bench calibrate MODEL`.
struct CalibrationBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Calibration tokens/s next to the plain forward pass, and Hessian GFLOP/s next to raw ssyrk.",
        discussion: """
            The same windows of the built-in prose set go through the model three ways: the plain block-by-block \
            forward pass, the calibrator without Hessians, and with them. Best of --repeat after a warm-up. \
            Goals: calibration overhead ≤ 25 % without Hessians; Hessian accumulation ≥ 50 % of raw ssyrk.
            """)

    @Argument(help: "A model directory.")
    var model: String

    @Option(help: "Windows per run.")
    var samples = 8

    @Option(name: .customLong("seq-len"), help: "Tokens per window.")
    var seqLen = 512

    @Option(name: .customLong("repeat"), help: "Timed repeats of each way.")
    var repeats = 2

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard samples >= 1 && samples <= 4096 else { throw ValidationError("--samples must be in 1...4096") }
        guard seqLen >= 2 && seqLen <= 1 << 16 else { throw ValidationError("--seq-len must be in 2...65536") }
        guard repeats >= 1 && repeats <= 100 else { throw ValidationError("--repeat must be in 1...100") }
    }

    func run() throws {
        let directory = try ModelDirectory(path: model)
        let tokenizer = try Tokenizer(directory: model)
        let set = try CalibrationSet.load(sources: [.builtin(.prose)], tokenizer: tokenizer,
                                          vocabularySize: directory.configuration.vocabSize,
                                          sequences: samples, length: seqLen, seed: 0)
        let network = try LlamaModel(directory: directory)
        let result = try CalibrationBenchmark.run(model: network, windows: set.windows, repeats: repeats)
        if json {
            try JSONOutput.print(result)
            return
        }
        print("calibration over \(set.windows.count) windows × \(seqLen) tokens (\(result.tokens) tokens), best of \(repeats)")
        print(String(format: "forward pass            %8.0f tokens/s", result.forwardTokensPerSecond))
        print(String(format: "calibrate, no Hessian   %8.0f tokens/s   overhead %+.1f%% (goal ≤ +25%%)",
                     result.calibrationTokensPerSecond, 100 * result.overhead))
        print(String(format: "calibrate, Hessian      %8.0f tokens/s", result.calibrationWithHessianTokensPerSecond))
        print(String(format: "Hessian accumulation    %8.1f GFLOP/s  raw ssyrk %.1f GFLOP/s  ratio %.2f (goal ≥ 0.5)",
                     result.hessianGFLOPS, result.rawSyrkGFLOPS, result.hessianRatio))
    }
}

/// `quantgate bench quantize [MODEL]`.
struct QuantizeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Block quantization MB/s per GGUF type next to memcpy; with MODEL, the wall time of MODEL → Q4_K_M.",
        discussion: """
            One thread, 64 rows × 4096 seeded values, best of 3; the importance column uses a random importance \
            matrix. With MODEL, the whole export (read, permute, quantize with all cores, write) to Q4_K_M \
            without calibration is timed too; compare with llama.cpp's convert_hf_to_gguf.py + llama-quantize \
            on the same model (Tools/interop_gguf.py prints both).
            """)

    @Argument(help: "A model directory to time end to end (optional).")
    var model: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let (memcpy, rows) = QuantizationBenchmark.run()
        var exportSeconds: Double?
        if let model {
            let directory = try ModelDirectory(path: model)
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("quantgate-bench-\(UUID().uuidString).gguf").path
            defer { try? FileManager.default.removeItem(atPath: out) }
            exportSeconds = try GGUFExporter.export(directory: directory, fileType: .q4_K_M, importance: nil, to: out).seconds
        }
        if json {
            struct Report: Encodable { var memcpyMBps: Double; var rows: [QuantizationBenchmark.Row]; var exportQ4KMSeconds: Double? }
            try JSONOutput.print(Report(memcpyMBps: memcpy, rows: rows, exportQ4KMSeconds: exportSeconds))
            return
        }
        print(String(format: "memcpy %.0f MB/s (same f32 bytes, one thread)", memcpy))
        print("type   quantize MB/s  × memcpy   with imatrix MB/s   dequantize MB/s")
        for row in rows {
            print(row.type.padding(toLength: 6, withPad: " ", startingAt: 0)
                + String(format: " %13.0f  %8.3f   %17.0f   %15.0f", row.quantizeMBps, row.ratioToMemcpy,
                         row.quantizeWithImportanceMBps, row.dequantizeMBps))
        }
        if let exportSeconds, let model { print(String(format: "%@ → GGUF Q4_K_M (no calibration): %.2f s wall", model, exportSeconds)) }
    }
}

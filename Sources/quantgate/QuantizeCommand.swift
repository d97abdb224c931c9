import ArgumentParser
import Foundation
import QuantGateFormats
import QuantGateQuantize

/// `quantgate quantize MODEL --target cpu --out model.gguf`.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a checkpoint into the artefact a hardware target runs.",
        discussion: """
            Targets: cpu, x86, arm64, apple-m → GGUF for llama.cpp and Ollama (default mixture Q4_K_M). \
            The GPU targets arrive with their formats.
            --format gguf:MIXTURE picks llama.cpp's mixture by its llama-quantize name: Q2_K, Q3_K_S, Q3_K_M, \
            Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, Q8_0, Q4_0, F16, BF16, F32. Which tensor gets which \
            type follows llama-quantize's rules exactly.
            Importance matrix: for every mixture below 8 bits, the quantizers weight each column's rounding \
            error by the mean x² of that column's input, measured on --data (the calibration cache \
            --calibration, default OUT.calibration.h5, is reused when it matches), or read from a llama.cpp \
            imatrix file (--imatrix). \
            --no-imatrix quantizes without one.
            """)

    @Argument(help: "A model directory (config.json, safetensors weights, tokenizer.json).")
    var model: String

    @Option(help: "Hardware target: cpu, x86, arm64, apple-m.")
    var target = "cpu"

    @Option(help: "Artefact format, e.g. gguf:Q4_K_M (default for the target).")
    var format: String?

    @OptionGroup var calibrationData: CalibrationDataOptions

    @Option(help: "The calibration cache to reuse or write (default: OUT.calibration.h5); `quantgate calibrate --out` writes one.")
    var calibration: String?

    @Option(help: "A llama.cpp importance matrix (GGUF form) to use instead of calibrating.")
    var imatrix: String?

    @Flag(name: .customLong("no-imatrix"), help: "Quantize without an importance matrix.")
    var noImatrix = false

    @Option(name: .customLong("save-imatrix"), help: "Also write the importance matrix in llama.cpp's GGUF imatrix form.")
    var saveImatrix: String?

    @Option(help: "The artefact to write.")
    var out: String

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard ["cpu", "x86", "arm64", "apple-m"].contains(target) else {
            throw ValidationError("--target \(target): only the CPU targets (cpu, x86, arm64, apple-m) are available so far")
        }
        _ = try fileType()
        guard !(noImatrix && imatrix != nil) else { throw ValidationError("--imatrix and --no-imatrix exclude each other") }
    }

    func fileType() throws -> GGUFFileType { try GGUFFileType(formatFlag: format) }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw InputError(description: "\(model): no such file or directory")
        }
        let type = try fileType()
        let job = GGUFQuantizeJob(model: model, fileType: type, target: target, calibrationData: calibrationData,
                                  calibrationCache: calibration ?? out + ".calibration.h5", imatrix: imatrix,
                                  useImportance: !noImatrix, saveImatrix: saveImatrix, quiet: quiet)
        let (summary, importance) = try job.run(out: out)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return
        }
        print("tensor                          shape              type   bytes   imatrix")
        for t in summary.tensors {
            print(t.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                + "\(t.shape)".padding(toLength: 19, withPad: " ", startingAt: 0)
                + t.type.padding(toLength: 7, withPad: " ", startingAt: 0)
                + String(format: "%8d   %@", t.bytes, t.usedImportance ? "yes" : "-"))
        }
        print(String(format: "wrote %@: %@ %@, %.2f MiB, %.2f bits per weight over %d parameters, %.1f s%@",
                     out, "GGUF", type.rawValue, Double(summary.fileBytes) / 1_048_576, summary.bitsPerWeight,
                     summary.parameters, summary.seconds,
                     importance.map { ", importance: \($0.source)" } ?? ", no importance matrix"))
    }
}

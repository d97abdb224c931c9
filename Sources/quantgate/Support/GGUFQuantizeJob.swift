import ArgumentParser
import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateTokenizer

/// Checkpoint → GGUF with the importance matrix from the calibration cache: what `quantize` and
/// `pipeline` both run.
struct GGUFQuantizeJob {
    var model: String
    var fileType: GGUFFileType
    var target: String
    var calibrationData: CalibrationDataOptions
    /// The calibration cache to reuse or write.
    var calibrationCache: String
    /// A llama.cpp imatrix file to use instead of calibrating.
    var imatrix: String?
    var useImportance = true
    var saveImatrix: String?
    var quiet: Bool

    /// Writes the artefact to `out`; returns the export summary and the importance source, if any.
    func run(out: String) throws -> (GGUFExportSummary, ImportanceMatrix?) {
        let directory = try ModelDirectory(path: model)
        let check = directory.check()
        guard check.passed else {
            let first = check.missing.first.map { "missing \($0.name)" } ?? check.wrongShape.first.map { "\($0.name) has shape \($0.actual), expected \($0.expected)" }
                ?? check.unexpected.first.map { "unexpected tensor \($0.name)" } ?? "mismatch"
            throw InputError(description: "\(model): the weights do not match config.json (\(first)); see quantgate inspect")
        }
        var importance: ImportanceMatrix?
        var provenance: [(key: String, value: GGUFValue)] = [("quantgate.target", .string(target))]
        if let imatrix {
            importance = try ImportanceMatrix(llamaCppFile: imatrix)
        } else if useImportance && fileType.usesImportance {
            let (matrix, key) = try calibrate(directory)
            importance = matrix
            provenance += [
                ("quantgate.calibration.data_hash", .string(key.dataHash)),
                ("quantgate.calibration.settings", .string("data=\(calibrationData.recordedNames.joined(separator: ",")) "
                                 + "samples=\(calibrationData.samples) seq_len=\(calibrationData.seqLen) seed=\(calibrationData.seed)")),
            ]
        }
        if let saveImatrix, let importance {
            try importance.writeLlamaCppFile(to: saveImatrix, datasets: calibrationData.recordedNames, chunkSize: calibrationData.seqLen)
        }
        let progress = Progress(enabled: !quiet, label: "quantize \(fileType.rawValue)")
        let summary = try GGUFExporter.export(directory: directory, fileType: fileType, importance: importance,
                                              provenance: provenance, to: out) { done, total, _ in
            progress.update(done, of: total)
        }
        progress.finish()
        return (summary, importance)
    }

    /// The importance matrix from the calibration cache (computed when absent or stale).
    private func calibrate(_ directory: ModelDirectory) throws -> (ImportanceMatrix, CalibrationKey) {
        let c = directory.configuration
        let tokenizer = try Tokenizer(directory: model)
        let set = try calibrationData.load(tokenizer: tokenizer, vocabularySize: c.vocabSize)
        for note in set.diagnostics.notes where !quiet { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let key = CalibrationKey(modelHash: try ModelFingerprint.compute(directory), set: set, hessian: false)
        let calibrator = Calibrator(model: try LlamaModel(directory: directory), collectHessian: false)
        let line = CalibrationProgressLine(enabled: !quiet)
        let (file, status) = try CalibrationCache.obtain(path: calibrationCache, key: key, set: set, calibrator: calibrator,
                                                         progress: line.update)
        line.finish()
        if !quiet { FileHandle.standardError.write(Data("calibration cache \(calibrationCache): \(status)\n".utf8)) }
        return (try ImportanceMatrix(statistics: file, configuration: c), key)
    }
}

extension GGUFFileType {
    /// Whether the mixture's quantizers use an importance matrix (Q8_0 and the float types do not).
    var usesImportance: Bool { isQuantized && self != .q8_0 }

    /// The `--format gguf:MIXTURE` flag (nil: the CPU targets' default, Q4_K_M).
    init(formatFlag: String?) throws {
        let spec = formatFlag ?? "gguf:Q4_K_M"
        guard spec.lowercased().hasPrefix("gguf:"), let type = GGUFFileType(llamaQuantizeName: String(spec.dropFirst(5))) else {
            throw ValidationError("--format \(spec): expected gguf:MIXTURE with MIXTURE one of \(GGUFFileType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = type
    }
}

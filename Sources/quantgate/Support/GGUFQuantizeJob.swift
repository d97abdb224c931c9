import ArgumentParser
import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateOutput
import QuantGateQuantize
import QuantGateTensors
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
    /// Replace existing outputs (`--force`): the GGUF, the saved imatrix, a foreign file at the cache path.
    var replace = false
    var quiet: Bool

    /// Writes the artefact to `out`; returns the export summary and the importance source, if any. Every
    /// output is checked before any work (an existing one needs `replace`).
    func run(out: String) throws -> (GGUFExportSummary, ImportanceMatrix?) {
        try OutputDestination(out, kind: .file, replace: replace).checkWritable()
        if let saveImatrix { try OutputDestination(saveImatrix, kind: .file, replace: replace).checkWritable() }
        let directory = try RunFacts.stage("check") { try checkedModelDirectory(model) }
        var importance: ImportanceMatrix?
        var provenance: [(key: String, value: GGUFValue)] = [("quantgate.target", .string(target))]
        if let imatrix {
            importance = try ImportanceMatrix(llamaCppFile: imatrix)
        } else if useImportance && fileType.usesImportance {
            let statistics = CalibrationStatistics(model: model, calibrationData: calibrationData, cachePath: calibrationCache,
                                                   replace: replace, quiet: quiet)
            let (file, key) = try statistics.obtain(directory)
            importance = try ImportanceMatrix(statistics: file, configuration: directory.configuration)
            provenance += statistics.provenance(key).map { ($0.key, .string($0.value)) }
        }
        // Both files are written under temporary names and renamed only once both are complete.
        let progress = Progress(enabled: !quiet, label: "quantize \(fileType.rawValue)")
        var (gguf, summary) = try RunFacts.stage("quantize") {
            try OutputDestination(out, kind: .file, replace: replace).stage { temporary in
                try GGUFExporter.export(directory: directory, fileType: fileType, importance: importance, provenance: provenance,
                                        to: temporary) { done, total, _ in progress.update(done, of: total) }
            }
        }
        progress.finish()
        summary.path = out
        var matrix: StagedOutput?
        if let saveImatrix, let importance {
            (matrix, _) = try OutputDestination(saveImatrix, kind: .file, replace: replace).stage { temporary in
                try importance.writeLlamaCppFile(to: temporary, datasets: calibrationData.recordedNames, chunkSize: calibrationData.seqLen)
            }
        }
        try gguf.commit()
        try matrix?.commit()
        return (summary, importance)
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

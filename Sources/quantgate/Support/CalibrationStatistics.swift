import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateTensors
import QuantGateTokenizer

/// The calibration statistics of a checkpoint from the cache, computed when absent or stale: what
/// the quantize jobs of every format start from (the pipeline's targets share one cache file).
struct CalibrationStatistics {
    var model: String
    var calibrationData: CalibrationDataOptions
    var cachePath: String
    /// Replace a file at `cachePath` that is not a reusable statistics file (`--force`).
    var replace = false
    var quiet: Bool

    /// The statistics file and its key.
    func obtain(_ directory: ModelDirectory) throws -> (StatisticsFile, CalibrationKey) {
        let (set, key) = try windows(directory)
        let calibrator = Calibrator(model: try LlamaModel(directory: directory, residency: .streamed), collectHessian: false)
        let line = CalibrationProgressLine(enabled: !quiet)
        let (file, status) = try RunFacts.stage("calibrate") {
            try CalibrationCache.obtain(path: cachePath, key: key, set: set, calibrator: calibrator, replace: replace, progress: line.update)
        }
        line.finish()
        if !quiet { FileHandle.standardError.write(Data("calibration cache \(cachePath): \(status)\n".utf8)) }
        return (file, key)
    }

    /// The calibration windows (the same the cache is keyed on) and their key, without calibrating:
    /// what a sequential quantizer (GPTQ) runs itself.
    func windows(_ directory: ModelDirectory, mode: String = "plain") throws -> (CalibrationSet, CalibrationKey) {
        let tokenizer = try Tokenizer(directory: model)
        let set = try calibrationData.load(tokenizer: tokenizer, configuration: directory.configuration)
        for note in set.diagnostics.notes where !quiet { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        return (set, CalibrationKey(modelHash: try ModelFingerprint.compute(directory), set: set, hessian: mode != "plain", mode: mode))
    }

    /// The provenance a quantized artefact records about its calibration.
    func provenance(_ key: CalibrationKey) -> [(key: String, value: String)] {
        [
            ("quantgate.calibration.data_hash", key.dataHash),
            ("quantgate.calibration.settings", "data=\(calibrationData.recordedNames.joined(separator: ",")) "
                + "samples=\(calibrationData.samples) seq_len=\(calibrationData.seqLen) seed=\(calibrationData.seed)"),
        ]
    }
}

/// A model directory every command may use: tensors as config.json describes them, in float dtypes, every
/// value finite (``ModelDirectory/validate(progress:)``), or an input error naming the tensor or field.
func checkedModelDirectory(_ model: String) throws -> ModelDirectory {
    let directory = try ModelDirectory(path: model)
    try directory.validate()
    return directory
}

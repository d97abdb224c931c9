import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors

/// What every quantize job that writes a model directory (FP8, GPTQ, AWQ) shares: the source, the target,
/// the calibration data and how to write; and the steps before any calibration.
struct DirectoryJob {
    var model: String
    var maxShardBytes: Int
    var target: String
    var calibrationData: CalibrationDataOptions
    var replace: Bool
    var quiet: Bool

    /// Checks that `out` may be written and the source's tensors against its config.json, then runs `plan` (the
    /// exporter's checks, its scan of every value included) with a progress line: everything refusable is
    /// refused here, before any calibration.
    func plan<Plan>(out: String, _ plan: (ModelDirectory, @escaping (Int, Int, String) -> Void) throws -> Plan) throws -> (ModelDirectory, Plan) {
        try RunFacts.stage("check") {
            try CheckpointDirectoryWriter(output: out, replace: replace).checkWritable()
            let directory = try ModelDirectory(path: model)
            try directory.check().validate(directory: model)
            let checking = Progress(enabled: !quiet, label: "check \(URL(fileURLWithPath: model).lastPathComponent)")
            let result = try plan(directory) { done, total, _ in checking.update(done, of: total) }
            checking.finish()
            return (directory, result)
        }
    }

    /// Where the quantized tensors of the artefact `out` wait for the writer (``TensorSpool``): the nearest
    /// existing directory above `out` (the pipeline creates its output tree as it goes), so the spool uses the
    /// disk the artefact will (it needs about the artefact's size).
    static func spoolDirectory(for out: String) -> String {
        var directory = URL(fileURLWithPath: out).standardizedFileURL.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        while !(FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) && isDirectory.boolValue),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.path
    }

    /// Warns (on stderr, even when quiet) when a vLLM release QuantGate pins would refuse the artefact about to be
    /// written: the flags asked for a scheme other loaders read, and the gate's `loads-in-vllm` check will fail it.
    func warnIfVLLMRefuses(quantizationConfig: JSONValue, directory: ModelDirectory, quantized: [String]) {
        let input = PackedExport.loaderInput(quantizationConfig: quantizationConfig, configuration: directory.configuration, quantized: quantized)
        for violation in VLLMRules.pinned.flatMap({ $0.violations(input) }) {
            FileHandle.standardError.write(Data("warning: \(violation); the gate's loads-in-vllm check will fail this artefact\n".utf8))
        }
    }

    /// The `quantgate.*` provenance every artefact records.
    func provenance(scheme: String) -> [String: String] {
        ["quantgate.version": QuantGateVersion.string, "quantgate.target": target, "quantgate.scheme": scheme]
    }

    /// The calibration windows for a quantizer that calibrates itself (GPTQ, AWQ), recording their data hash
    /// and settings in `provenance`.
    func calibrationWindows(_ directory: ModelDirectory, mode: String, provenance: inout [String: String]) throws -> [[Int]] {
        let statistics = CalibrationStatistics(model: model, calibrationData: calibrationData, cachePath: "", quiet: quiet)
        let (set, key) = try statistics.windows(directory, mode: mode)
        for (key, value) in statistics.provenance(key) { provenance[key] = value }
        return set.windows
    }
}

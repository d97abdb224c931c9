import Dispatch
import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors

/// Checkpoint → GPTQ model directory, calibrating sequentially (each block quantized from Hessians of
/// what the quantized blocks before it output): what `quantize` and `pipeline` run for the Ampere and
/// older targets. The checkpoint is checked before calibration; `--rtn` skips calibration.
struct GPTQQuantizeJob {
    var model: String
    var options: GPTQOptions
    var grid: GridOptions
    var maxShardBytes: Int
    var target: String
    var calibrationData: CalibrationDataOptions
    var replace: Bool
    var quiet: Bool

    func run(out: String) throws -> GPTQExportSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let directory = try checkedModelDirectory(model)
        try CheckpointDirectoryWriter(output: out, replace: replace).checkWritable()
        let checking = Progress(enabled: !quiet, label: "check \(URL(fileURLWithPath: model).lastPathComponent)")
        let plan = try GPTQExporter.plan(directory: directory, config: options.quantizationConfig(grid)) { done, total, _ in
            checking.update(done, of: total)
        }
        checking.finish()
        var provenance = ["quantgate.version": QuantGateVersion.string, "quantgate.target": target, "quantgate.scheme": options.tag(grid)]
        let settings = options.solverSettings(grid)
        var results: [String: GPTQLayerResult] = [:]
        if grid.rtn {
            let progress = Progress(enabled: !quiet, label: "round to nearest")
            for (index, module) in plan.modules.enumerated() {
                let (shape, weight) = try directory.checkpoint.weight(module + ".weight")
                results[module] = try GPTQSolver.quantize(weight: weight, rows: shape[0], columns: shape[1], hessian: nil,
                                                          settings: settings, module: module)
                progress.update(index + 1, of: plan.modules.count)
            }
            progress.finish()
        } else {
            let statistics = CalibrationStatistics(model: model, calibrationData: calibrationData, cachePath: "", quiet: quiet)
            let (set, key) = try statistics.windows(directory, mode: "gptq")
            for (key, value) in statistics.provenance(key) { provenance[key] = value }
            let calibrator = Calibrator(model: try LlamaModel(directory: directory), collectHessian: true)
            // Progress per quantized Linear (a block's windows are stepped through inside the quantizer).
            let progress = Progress(enabled: !quiet, label: "GPTQ, \(set.windows.count) windows")
            var done = 0
            let quantizer = GPTQBlockQuantizer(model: calibrator.model, settings: settings, trueSequential: options.trueSequential) { _ in
                done += 1
                progress.update(done, of: plan.modules.count)
            }
            try calibrator.run(windows: set.windows, quantizer: quantizer) { _ in }
            progress.finish()
            results = Dictionary(uniqueKeysWithValues: quantizer.entries.map { ($0.module, $0.result) })
        }
        let writing = Progress(enabled: !quiet, label: "write \(options.tag(grid))")
        let summary = try GPTQExporter.write(plan, config: options.quantizationConfig(grid), results: results, method: grid.rtn ? "rtn" : "gptq",
                                             scaleFitting: options.scaleFitting.rawValue, provenance: provenance,
                                             maxShardBytes: maxShardBytes, to: out, replace: replace, started: started)
        writing.finish()
        return summary
    }
}

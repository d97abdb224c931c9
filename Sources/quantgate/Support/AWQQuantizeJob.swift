import Dispatch
import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors

/// Checkpoint → AutoAWQ GEMM model directory, calibrating block by block on full-precision activations
/// (each block's α and clip searches on its own inputs): what `quantize` and `pipeline` run for the Ada
/// targets. The checkpoint is checked before calibration; `--rtn` skips calibration.
struct AWQQuantizeJob {
    var model: String
    var options: AWQOptions
    var grid: GridOptions
    var maxShardBytes: Int
    var target: String
    var calibrationData: CalibrationDataOptions
    var replace: Bool
    var quiet: Bool

    func run(out: String) throws -> AWQExportSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let settings = try options.settings(grid)
        let directory = try checkedModelDirectory(model)
        try CheckpointDirectoryWriter(output: out, replace: replace).checkWritable()
        let checking = Progress(enabled: !quiet, label: "check \(URL(fileURLWithPath: model).lastPathComponent)")
        let config = options.quantizationConfig(grid)
        let plan = try AWQExporter.plan(directory: directory, config: config) { done, total, _ in checking.update(done, of: total) }
        checking.finish()
        var provenance = ["quantgate.version": QuantGateVersion.string, "quantgate.target": target, "quantgate.scheme": options.tag(grid)]
        let c = directory.configuration
        var blocks: [AWQBlockResult] = []
        if grid.rtn {
            let progress = Progress(enabled: !quiet, label: "round to nearest")
            let network = try LlamaModel(directory: directory, residency: .streamed)
            for layer in 0..<c.layerCount {
                blocks.append(AWQBlockQuantizer.roundToNearest(layer: layer, weights: try network.blockWeights(layer), configuration: c,
                                                               groupSize: settings.groupSize))
                progress.update(layer + 1, of: c.layerCount)
            }
            progress.finish()
        } else {
            let statistics = CalibrationStatistics(model: model, calibrationData: calibrationData, cachePath: "", quiet: quiet)
            let (set, key) = try statistics.windows(directory, mode: "awq")
            for (key, value) in statistics.provenance(key) { provenance[key] = value }
            let calibrator = Calibrator(model: try LlamaModel(directory: directory), collectHessian: false)
            // Progress per scaling-group search and per quantized Linear (a block's windows are stepped through inside).
            let progress = Progress(enabled: !quiet, label: "AWQ, \(set.windows.count) windows")
            var done = 0
            let quantizer = AWQBlockQuantizer(model: calibrator.model, settings: settings) { _ in
                done += 1
                progress.update(done, of: c.layerCount * AWQBlockQuantizer.eventsPerBlock)
            }
            try calibrator.run(windows: set.windows, quantizer: quantizer) { _ in }
            progress.finish()
            blocks = quantizer.blocks
        }
        let writing = Progress(enabled: !quiet, label: "write \(options.tag(grid))")
        let summary = try AWQExporter.write(plan, config: config, blocks: blocks, settings: settings, provenance: provenance,
                                            maxShardBytes: maxShardBytes, to: out, replace: replace, started: started)
        writing.finish()
        return summary
    }
}

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
    var job: DirectoryJob
    var options: AWQOptions
    var grid: GridOptions

    func run(out: String) throws -> AWQExportSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let settings = try options.settings(grid)
        let config = options.quantizationConfig(grid)
        let (directory, plan) = try job.plan(out: out) { try AWQExporter.plan(directory: $0, config: config, progress: $1) }
        job.warnIfVLLMRefuses(quantizationConfig: config.json, directory: directory, quantized: plan.modules)
        var provenance = job.provenance(scheme: options.tag(grid))
        let c = directory.configuration
        // Each block is packed and parked on disk as soon as it is quantized: memory holds one block's work.
        let spool = try TensorSpool(directory: DirectoryJob.spoolDirectory(for: out))
        var blocks: [AWQExportBlock] = []
        if grid.rtn {
            let progress = Progress(enabled: !job.quiet, label: "round to nearest")
            let network = try LlamaModel(directory: directory, residency: .streamed)
            for layer in 0..<c.layerCount {
                blocks.append(try AWQExporter.block(
                    AWQBlockQuantizer.roundToNearest(layer: layer, weights: try network.blockWeights(layer), configuration: c,
                                                     groupSize: settings.groupSize), spool: spool))
                progress.update(layer + 1, of: c.layerCount)
            }
            progress.finish()
        } else {
            let windows = try job.calibrationWindows(directory, mode: "awq", provenance: &provenance)
            let calibrator = Calibrator(model: try LlamaModel(directory: directory, residency: .streamed), collectHessian: false)
            // Progress per scaling-group search and per quantized Linear (a block's windows are stepped through inside).
            let progress = Progress(enabled: !job.quiet, label: "AWQ, \(windows.count) windows")
            var done = 0
            let quantizer = AWQBlockQuantizer(model: calibrator.model, settings: settings, progress: { _ in
                done += 1
                progress.update(done, of: c.layerCount * AWQBlockQuantizer.eventsPerBlock)
            }, consume: { blocks.append(try AWQExporter.block($0, spool: spool)) })
            try RunFacts.stage("awq") { try calibrator.run(windows: windows, quantizer: quantizer) { _ in } }
            progress.finish()
        }
        let writing = Progress(enabled: !job.quiet, label: "write \(options.tag(grid))")
        let summary = try RunFacts.stage("write") {
            try AWQExporter.write(plan, config: config, blocks: blocks, settings: settings, provenance: provenance,
                                  maxShardBytes: job.maxShardBytes, to: out, replace: job.replace, started: started)
        }
        writing.finish()
        return summary
    }
}

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
    var job: DirectoryJob
    var options: GPTQOptions
    var grid: GridOptions

    func run(out: String) throws -> GPTQExportSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let config = options.quantizationConfig(grid)
        let (directory, plan) = try job.plan(out: out) { try GPTQExporter.plan(directory: $0, config: config, progress: $1) }
        job.warnIfVLLMRefuses(quantizationConfig: config.json, directory: directory, quantized: plan.modules)
        var provenance = job.provenance(scheme: options.tag(grid))
        let settings = options.solverSettings(grid)
        // Each Linear is packed and parked on disk as soon as it is quantized: memory holds one block's work.
        let spool = try TensorSpool(directory: DirectoryJob.spoolDirectory(for: out))
        var modules: [String: GPTQExportModule] = [:]
        func keep(_ module: String, _ result: GPTQLayerResult) throws {
            modules[module] = try GPTQExporter.module(module, result, config: config, spool: spool)
        }
        if grid.rtn {
            let progress = Progress(enabled: !job.quiet, label: "round to nearest")
            for (index, module) in plan.modules.enumerated() {
                let (shape, weight) = try directory.checkpoint.weight(module + ".weight")
                try keep(module, try GPTQSolver.quantize(weight: weight, rows: shape[0], columns: shape[1], hessian: nil,
                                                         settings: settings, module: module))
                progress.update(index + 1, of: plan.modules.count)
            }
            progress.finish()
        } else {
            let windows = try job.calibrationWindows(directory, mode: "gptq", provenance: &provenance)
            let calibrator = Calibrator(model: try LlamaModel(directory: directory, residency: .streamed), collectHessian: true)
            // Progress per quantized Linear (a block's windows are stepped through inside the quantizer).
            let progress = Progress(enabled: !job.quiet, label: "GPTQ, \(windows.count) windows")
            let quantizer = GPTQBlockQuantizer(model: calibrator.model, settings: settings, trueSequential: options.trueSequential) { entry in
                try keep(entry.module, entry.result)
                progress.update(modules.count, of: plan.modules.count)
            }
            try RunFacts.stage("gptq") { try calibrator.run(windows: windows, quantizer: quantizer) { _ in } }
            progress.finish()
        }
        let writing = Progress(enabled: !job.quiet, label: "write \(options.tag(grid))")
        let summary = try RunFacts.stage("write") {
            try GPTQExporter.write(plan, config: config, modules: modules, method: grid.rtn ? "rtn" : "gptq",
                                   scaleFitting: settings.effectiveScaleFitting.rawValue, provenance: provenance,
                                   maxShardBytes: job.maxShardBytes, to: out, replace: job.replace, started: started)
        }
        writing.finish()
        return summary
    }
}

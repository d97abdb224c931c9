import Foundation
import QuantGateFormats
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors

/// Checkpoint → FP8 compressed-tensors directory, with static activation scales from the calibration
/// cache: what `quantize` and `pipeline` both run for the FP8 targets. Everything that can be refused
/// (bad ignore patterns, a non-finite weight, an existing output) is refused before calibration.
struct FP8QuantizeJob {
    var job: DirectoryJob
    var options: FP8Options
    var calibrationCache: String

    func run(out: String) throws -> FP8ExportSummary {
        let (directory, plan) = try job.plan(out: out) {
            try FP8Exporter.plan(directory: $0, scheme: options.scheme, ignore: options.patterns, progress: $1)
        }
        job.warnIfVLLMRefuses(quantizationConfig: FP8QuantizationConfig(scheme: plan.scheme, ignore: plan.ignoreList).json,
                              directory: directory, quantized: plan.quantized)
        var metadata = job.provenance(scheme: options.scheme.tag)
        var maxima: [String: Float] = [:]
        if options.activations == .static {
            let statistics = CalibrationStatistics(model: job.model, calibrationData: job.calibrationData, cachePath: calibrationCache,
                                                   replace: job.replace, quiet: job.quiet)
            let (file, key) = try statistics.obtain(directory)
            maxima = try ActivationMaxima.from(statistics: file, configuration: directory.configuration)
            for (key, value) in statistics.provenance(key) { metadata[key] = value }
        }
        let progress = Progress(enabled: !job.quiet, label: "write \(options.scheme.tag)")
        let summary = try RunFacts.stage("write") {
            try FP8Exporter.write(plan, activationMaxima: maxima, metadata: metadata, maxShardBytes: job.maxShardBytes,
                                  to: out, replace: job.replace) { done, total, _ in progress.update(done, of: total) }
        }
        progress.finish()
        return summary
    }
}

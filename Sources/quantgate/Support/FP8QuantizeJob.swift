import Foundation
import QuantGateFormats
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors

/// Checkpoint → FP8 compressed-tensors directory, with static activation scales from the calibration
/// cache: what `quantize` and `pipeline` both run for the FP8 targets. Everything that can be refused
/// (bad ignore patterns, a non-finite weight, an existing output) is refused before calibration.
struct FP8QuantizeJob {
    var model: String
    var options: FP8Options
    var maxShardBytes: Int
    var target: String
    var calibrationData: CalibrationDataOptions
    var calibrationCache: String
    var replace: Bool
    var quiet: Bool

    func run(out: String) throws -> FP8ExportSummary {
        let directory = try checkedModelDirectory(model)
        try CheckpointDirectoryWriter(output: out, replace: replace).checkWritable()
        let checking = Progress(enabled: !quiet, label: "check \(URL(fileURLWithPath: model).lastPathComponent)")
        let plan = try FP8Exporter.plan(directory: directory, scheme: options.scheme, ignore: options.patterns) { done, total, _ in
            checking.update(done, of: total)
        }
        checking.finish()
        var metadata = ["quantgate.version": QuantGateVersion.string, "quantgate.target": target,
                        "quantgate.scheme": options.scheme.tag]
        var maxima: [String: Float] = [:]
        if options.activations == .static {
            let statistics = CalibrationStatistics(model: model, calibrationData: calibrationData, cachePath: calibrationCache, quiet: quiet)
            let (file, key) = try statistics.obtain(directory)
            maxima = try ActivationMaxima.from(statistics: file, configuration: directory.configuration)
            for (key, value) in statistics.provenance(key) { metadata[key] = value }
        }
        let progress = Progress(enabled: !quiet, label: "write \(options.scheme.tag)")
        let summary = try FP8Exporter.write(plan, activationMaxima: maxima, metadata: metadata, maxShardBytes: maxShardBytes,
                                            to: out, replace: replace) { done, total, _ in progress.update(done, of: total) }
        progress.finish()
        return summary
    }
}

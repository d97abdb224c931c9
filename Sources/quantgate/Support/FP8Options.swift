import ArgumentParser
import QuantGateFormats
import QuantGateQuantize
import QuantGateSafetensors

/// The FP8 artefact's flags, shared by `quantize` and `pipeline`.
struct FP8Options: ParsableArguments {
    @Option(name: .customLong("weight-scales"), help: "FP8 weight scales: channel (one per output row) or tensor.")
    var weightScales: FP8Scheme.WeightScales = .channel

    @Option(help: "FP8 activation scales: static (per tensor, from calibration max |x|) or dynamic (per token, at run time).")
    var activations: FP8Scheme.Activations = .static

    @Option(name: .customLong("ignore"),
            help: "Leave matching Linears unquantized (glob over module names, e.g. 'model.layers.0.*', or re:REGEX); repeatable. lm_head and MoE routers are always left.")
    var ignore: [String] = []

    @Option(name: .customLong("max-shard-size"), help: "Largest weights file, e.g. 5GB or 500MiB (Hugging Face's sharding and index).")
    var maxShardSize = "5GB"

    func validate() throws {
        guard ShardedSafetensorsWriter.parseSize(maxShardSize) != nil else {
            throw ValidationError("--max-shard-size \(maxShardSize): expected a size such as 5GB, 500MB or 2GiB")
        }
        for pattern in ignore.map(ModulePattern.init) where !pattern.isValid {
            throw ValidationError("--ignore \(pattern): the regular expression does not compile")
        }
    }

    var scheme: FP8Scheme { FP8Scheme(weights: weightScales, activations: activations) }
    /// The user's `--ignore` patterns (the exporter adds the defaults).
    var patterns: [ModulePattern] { ignore.map(ModulePattern.init) }
    var maxShardBytes: Int { ShardedSafetensorsWriter.parseSize(maxShardSize) ?? 5_000_000_000 }
}

extension FP8Scheme.WeightScales: ExpressibleByArgument {}
extension FP8Scheme.Activations: ExpressibleByArgument {}

import ArgumentParser
import QuantGateFormats
import QuantGateQuantize

/// The FP8 artefact's flags, shared by `quantize` and `pipeline`.
struct FP8Options: ParsableArguments {
    @Option(name: .customLong("weight-scales"), help: "FP8 weight scales: channel (one per output row) or tensor.")
    var weightScales: FP8Scheme.WeightScales = .channel

    @Option(help: "FP8 activation scales: static (per tensor, from calibration max |x|) or dynamic (per token, at run time).")
    var activations: FP8Scheme.Activations = .static

    @Option(name: .customLong("ignore"),
            help: "Leave matching Linears unquantized (glob over module names, e.g. 'model.layers.0.*', or re:REGEX); repeatable. lm_head and MoE routers are always left.")
    var ignore: [String] = []

    func validate() throws {
        for pattern in ignore.map(ModulePattern.init) where !pattern.isValid {
            throw ValidationError("--ignore \(pattern): the regular expression does not compile")
        }
    }

    var scheme: FP8Scheme { FP8Scheme(weights: weightScales, activations: activations) }
    /// The user's `--ignore` patterns (the exporter adds the defaults).
    var patterns: [ModulePattern] { ignore.map(ModulePattern.init) }
}

extension FP8Scheme.WeightScales: ExpressibleByArgument {}
extension FP8Scheme.Activations: ExpressibleByArgument {}

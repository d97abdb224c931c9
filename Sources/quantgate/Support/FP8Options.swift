import ArgumentParser
import QuantGateFormats
import QuantGateQuantize

/// The FP8 artefact's flags, shared by `quantize` and `pipeline`.
struct FP8Options: ParsableArguments {
    @Option(name: .customLong("weight-scales"), help: "FP8 weight scales: channel (one per output row; default) or tensor.")
    var weightScalesFlag: FP8Scheme.WeightScales?

    @Option(name: .customLong("activations"),
            help: "FP8 activation scales: static (per tensor, from calibration max |x|; default) or dynamic (per token, at run time).")
    var activationsFlag: FP8Scheme.Activations?

    @Option(name: .customLong("ignore"),
            help: "Leave matching Linears unquantized (glob over module names, e.g. 'model.layers.0.*', or re:REGEX); repeatable. lm_head and MoE routers are always left.")
    var ignore: [String] = []

    func validate() throws {
        for pattern in ignore.map(ModulePattern.init) where !pattern.isValid {
            throw ValidationError("--ignore \(pattern): the regular expression does not compile")
        }
    }

    var weightScales: FP8Scheme.WeightScales { weightScalesFlag ?? .channel }
    var activations: FP8Scheme.Activations { activationsFlag ?? .static }
    var scheme: FP8Scheme { FP8Scheme(weights: weightScales, activations: activations) }
    /// The flags given on the command line (refused for artefacts that do not read them).
    var given: [String] {
        [weightScalesFlag.map { _ in "--weight-scales" }, activationsFlag.map { _ in "--activations" }, ignore.isEmpty ? nil : "--ignore"]
            .compactMap { $0 }
    }
    /// The user's `--ignore` patterns (the exporter adds the defaults).
    var patterns: [ModulePattern] { ignore.map(ModulePattern.init) }
}

extension FP8Scheme.WeightScales: ExpressibleByArgument {}
extension FP8Scheme.Activations: ExpressibleByArgument {}

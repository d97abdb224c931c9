import ArgumentParser
import QuantGateFormats
import QuantGateQuantize
import QuantGateTensors

/// The AWQ artefact's flags, shared by `quantize` and `pipeline` (the group size and `--rtn` are
/// ``GridOptions``). Defaults are AutoAWQ's: 4 bits with zero points, group 128, duo scaling, 20-point α
/// grid, clip search on.
struct AWQOptions: ParsableArguments {
    @Flag(name: .customLong("duo-scaling"), inversion: .prefixedNo,
          help: "AWQ scales mean|x|^α / mean|ŵ|^(1−α) (AutoAWQ's default, on); --no-duo-scaling uses the paper's mean|x|^α.")
    var duoScalingFlag: Bool?

    @Flag(name: .customLong("clip"), inversion: .prefixedNo,
          help: "AWQ clip search (on by default): clamp each (row, group) of every Linear but q/k to the bound (max|w| × 1.00 … 0.55) that best keeps its outputs.")
    var clipFlag: Bool?

    var duoScaling: Bool { duoScalingFlag ?? true }
    var clip: Bool { clipFlag ?? true }
    /// The flags given on the command line (refused for artefacts that do not read them).
    var given: [String] {
        [duoScalingFlag.map { $0 ? "--duo-scaling" : "--no-duo-scaling" }, clipFlag.map { $0 ? "--clip" : "--no-clip" }].compactMap { $0 }
    }

    /// The settings for `grid`'s group size (AWQ's GEMM layout has no per-row groups).
    func settings(_ grid: GridOptions) throws -> AWQSettings {
        guard grid.groupSize > 0 else { throw ValidationError("--group-size -1: AWQ's GEMM layout needs groups of input columns (128, 64 or 32)") }
        if grid.rtn { return .roundToNearest(groupSize: grid.groupSize) }
        return AWQSettings(groupSize: grid.groupSize, duoScaling: duoScaling, clip: clip)
    }

    func quantizationConfig(_ grid: GridOptions) -> AWQQuantizationConfig {
        AWQQuantizationConfig(groupSize: grid.groupSize, meta: [
            "quantizer": .array([.string("quantgate:\(QuantGateVersion.string)")]), "method": .string(grid.rtn ? "rtn" : "awq"),
            "duo_scaling": .bool(duoScaling && !grid.rtn), "clip": .bool(clip && !grid.rtn),
        ])
    }

    /// `AWQ-W4G128`, `AWQ-RTN-W4G128`: the artefact's name suffix.
    func tag(_ grid: GridOptions) -> String {
        "AWQ-" + (grid.rtn ? "RTN-" : "") + "W4G\(grid.groupSize)"
    }
}

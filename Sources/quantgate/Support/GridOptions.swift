import ArgumentParser

/// The integer-grid flags GPTQ and AWQ share (one declaration per command, read by whichever target runs).
struct GridOptions: ParsableArguments {
    @Option(name: .customLong("group-size"),
            help: "GPTQ and AWQ: input columns per scale/zero group, a power of two: 128 (default), 64, 32, …; -1 for one group per output row (GPTQ only).")
    var groupSizeFlag: Int?

    @Flag(help: "GPTQ and AWQ: round to nearest on the same grid instead of the algorithm (a baseline; no calibration).")
    var rtn = false

    func validate() throws {
        guard groupSize == -1 || (16...4096).contains(groupSize) && groupSize & (groupSize - 1) == 0 else {
            throw ValidationError("--group-size \(groupSize): expected a power of two from 16 to 4096 (128 by default), or -1 (GPTQ only): "
                                  + "the group sizes GPTQ and AWQ loaders (vLLM's kernels among them) take")
        }
    }

    var groupSize: Int { groupSizeFlag ?? 128 }
    /// The flags given on the command line (refused for artefacts that do not read them).
    var given: [String] { [groupSizeFlag.map { _ in "--group-size" }, rtn ? "--rtn" : nil].compactMap { $0 } }
}

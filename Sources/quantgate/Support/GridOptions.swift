import ArgumentParser

/// The integer-grid flags GPTQ and AWQ share (one declaration per command, read by whichever target runs).
struct GridOptions: ParsableArguments {
    @Option(name: .customLong("group-size"),
            help: "GPTQ and AWQ: input columns per scale/zero group (128 by default; AWQ also 64 or 32); -1 for one group per output row (GPTQ only).")
    var groupSize = 128

    @Flag(help: "GPTQ and AWQ: round to nearest on the same grid instead of the algorithm (a baseline; no calibration).")
    var rtn = false

    func validate() throws {
        guard groupSize == -1 || groupSize > 0 else { throw ValidationError("--group-size \(groupSize): expected -1 or a positive number of columns") }
    }
}

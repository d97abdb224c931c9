import ArgumentParser
import QuantGateFormats
import QuantGateQuantize
import QuantGateTensors

/// The GPTQ artefact's flags, shared by `quantize` and `pipeline` (the group size and `--rtn` are
/// ``GridOptions``). Defaults are the reference's and TARGETS.md's: 4 bits, group 128, act-order,
/// symmetric, damp 0.01, true-sequential, `gptq` (v1) format.
struct GPTQOptions: ParsableArguments {
    @Option(name: .customLong("bits"), help: "GPTQ bits per weight: 2, 4 (default) or 8.")
    var bitsFlag: Int?

    @Flag(name: .customLong("desc-act"), inversion: .prefixedNo,
          help: "GPTQ act-order (on by default): quantize columns in decreasing order of their Hessian diagonal (writes a non-trivial g_idx unless --static-groups).")
    var descActFlag: Bool?

    @Flag(name: .customLong("static-groups"), help: "GPTQ: fit every group's scale and zero on the original weights before the sweep, groups of consecutive columns (g_idx = i / group even with act-order).")
    var staticGroups = false

    @Flag(name: .customLong("sym"), inversion: .prefixedNo, help: "GPTQ symmetric grid (zero point 2^(bits-1); default); --no-sym fits a zero point per group.")
    var symmetricFlag: Bool?

    @Option(name: .customLong("damp"),
            help: "GPTQ dampening, as a fraction of the Hessian's mean diagonal (default 0.01; raised by 0.01 until the Cholesky factorization succeeds).")
    var dampFlag: Double?

    @Flag(name: .customLong("true-sequential"), inversion: .prefixedNo,
          help: "GPTQ (on by default): within a block, measure o_proj, gate/up and down_proj inputs after the Linears before them are quantized (the reference's order); --no-true-sequential uses one measuring pass per block (llm-compressor's).")
    var trueSequentialFlag: Bool?

    @Option(name: .customLong("scale-fitting"),
            help: "GPTQ group scales: sweep (default: fitted when the sweep reaches the group, on the error-updated weights: the reference) or pre-sweep (from the original weights: llm-compressor).")
    var scaleFittingFlag: GPTQSolverSettings.ScaleFitting?

    @Option(name: .customLong("checkpoint-format"), help: "GPTQ zero-point storage: gptq (default: v1, zero − 1 stored; every loader) or gptq_v2 (GPTQModel).")
    var checkpointFormatFlag: GPTQQuantizationConfig.CheckpointFormat?

    var bits: Int { bitsFlag ?? 4 }
    var descAct: Bool { descActFlag ?? true }
    var symmetric: Bool { symmetricFlag ?? true }
    var damp: Double { dampFlag ?? 0.01 }
    var trueSequential: Bool { trueSequentialFlag ?? true }
    var scaleFitting: GPTQSolverSettings.ScaleFitting { scaleFittingFlag ?? .sweep }
    var checkpointFormat: GPTQQuantizationConfig.CheckpointFormat { checkpointFormatFlag ?? .gptq }

    /// The flags given on the command line (refused for artefacts that do not read them).
    var given: [String] {
        [bitsFlag.map { _ in "--bits" }, descActFlag.map { $0 ? "--desc-act" : "--no-desc-act" }, staticGroups ? "--static-groups" : nil,
         symmetricFlag.map { $0 ? "--sym" : "--no-sym" }, dampFlag.map { _ in "--damp" },
         trueSequentialFlag.map { $0 ? "--true-sequential" : "--no-true-sequential" }, scaleFittingFlag.map { _ in "--scale-fitting" },
         checkpointFormatFlag.map { _ in "--checkpoint-format" }].compactMap { $0 }
    }

    func validate() throws {
        guard [2, 4, 8].contains(bits) else { throw ValidationError("--bits \(bits): GPTQ artefacts here have 2, 4 or 8 bits") }
        guard damp >= 0, damp <= 1 else { throw ValidationError("--damp \(damp): expected a fraction in [0, 1]") }
    }

    func solverSettings(_ grid: GridOptions) -> GPTQSolverSettings {
        let (groupSize, rtn) = (grid.groupSize, grid.rtn)
        return GPTQSolverSettings(bits: bits, groupSize: groupSize == -1 ? nil : groupSize, actOrder: descAct && !rtn, staticGroups: staticGroups,
                           symmetric: symmetric, damp: damp, scaleFitting: scaleFitting,
                           zeroFloor: checkpointFormat == .gptq && !symmetric ? 1 : 0)
    }

    func quantizationConfig(_ grid: GridOptions) -> GPTQQuantizationConfig {
        let (groupSize, rtn) = (grid.groupSize, grid.rtn)
        return GPTQQuantizationConfig(
            bits: bits, groupSize: groupSize == -1 ? nil : groupSize, descAct: descAct && !rtn, symmetric: symmetric, dampPercent: damp,
            trueSequential: trueSequential, staticGroups: staticGroups, checkpointFormat: checkpointFormat,
            meta: ["quantizer": .array([.string("quantgate:\(QuantGateVersion.string)")]), "method": .string(rtn ? "rtn" : "gptq"),
                   "damp_auto_increment": .number(0.01), "scale_fitting": .string(scaleFitting.rawValue)])
    }

    /// `GPTQ-W4G128-ACT`, `RTN-W4G128`: the artefact's name suffix.
    func tag(_ grid: GridOptions) -> String {
        let (groupSize, rtn) = (grid.groupSize, grid.rtn)
        return (rtn ? "RTN" : "GPTQ") + "-W\(bits)" + (groupSize == -1 ? "PC" : "G\(groupSize)") + (descAct && !rtn ? "-ACT" : "")
            + (symmetric ? "" : "-ASYM")
    }
}

extension GPTQSolverSettings.ScaleFitting: ExpressibleByArgument {}
extension GPTQQuantizationConfig.CheckpointFormat: ExpressibleByArgument {}

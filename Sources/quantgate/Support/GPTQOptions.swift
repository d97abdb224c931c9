import ArgumentParser
import QuantGateFormats
import QuantGateQuantize
import QuantGateTensors

/// The GPTQ artefact's flags, shared by `quantize` and `pipeline` (the group size and `--rtn` are
/// ``GridOptions``). Defaults are the reference's and TARGETS.md's: 4 bits, group 128, act-order,
/// symmetric, damp 0.01, true-sequential, `gptq` (v1) format.
struct GPTQOptions: ParsableArguments {
    @Option(name: .customLong("bits"), help: "GPTQ bits per weight: 2, 4 or 8.")
    var bits = 4

    @Flag(name: .customLong("desc-act"), inversion: .prefixedNo,
          help: "GPTQ act-order: quantize columns in decreasing order of their Hessian diagonal (writes a non-trivial g_idx unless --static-groups).")
    var descAct = true

    @Flag(name: .customLong("static-groups"), help: "GPTQ: fit every group's scale and zero on the original weights before the sweep, groups of consecutive columns (g_idx = i / group even with act-order).")
    var staticGroups = false

    @Flag(name: .customLong("sym"), inversion: .prefixedNo, help: "GPTQ symmetric grid (zero point 2^(bits-1)); --no-sym fits a zero point per group.")
    var symmetric = true

    @Option(help: "GPTQ dampening, as a fraction of the Hessian's mean diagonal (raised by 0.01 until the Cholesky factorization succeeds).")
    var damp = 0.01

    @Flag(name: .customLong("true-sequential"), inversion: .prefixedNo,
          help: "GPTQ: within a block, measure o_proj, gate/up and down_proj inputs after the Linears before them are quantized (the reference's order); --no-true-sequential uses one measuring pass per block (llm-compressor's).")
    var trueSequential = true

    @Option(name: .customLong("scale-fitting"),
            help: "GPTQ group scales: sweep (fitted when the sweep reaches the group, on the error-updated weights: the reference) or pre-sweep (from the original weights: llm-compressor).")
    var scaleFitting: GPTQSolverSettings.ScaleFitting = .sweep

    @Option(name: .customLong("checkpoint-format"), help: "GPTQ zero-point storage: gptq (v1, zero − 1 stored; every loader) or gptq_v2 (GPTQModel).")
    var checkpointFormat: GPTQQuantizationConfig.CheckpointFormat = .gptq

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

import ArgumentParser
import QuantGateFormats
import QuantGateQuantize
import QuantGateTensors

/// The GPTQ artefact's flags, shared by `quantize` and `pipeline` (the group size and `--rtn` are
/// ``GridOptions``). Defaults are TARGETS.md's: 4 bits, group 128, static act-order (`desc_act: false`, which
/// every loader runs), symmetric, damp 0.01, true-sequential, `gptq` (v1) format.
struct GPTQOptions: ParsableArguments {
    @Option(name: .customLong("bits"), help: "GPTQ bits per weight: 2, 4 (default) or 8.")
    var bitsFlag: Int?

    @Option(name: .customLong("act-order"),
            help: ArgumentHelp("GPTQ column order: static (default), group or off.", discussion: """
                static: columns quantized in decreasing order of their Hessian diagonal, groups of consecutive original \
                columns fitted on the original weights first (llm-compressor's actorder "static"); the checkpoint says \
                desc_act: false and every loader runs it. group: groups of consecutive columns in that order, a permuted \
                g_idx and desc_act: true, which vLLM 0.32 refuses ("group activation ordering is no longer supported") and \
                exllama/Marlin run only after reordering; for GPTQModel and transformers. off: the original column order.
                """))
    var actOrderFlag: GPTQSolverSettings.ActivationOrder?

    @Flag(name: .customLong("desc-act"), inversion: .prefixedNo,
          help: "GPTQ, AutoGPTQ's spelling: --desc-act is --act-order group (vLLM 0.32 refuses it), --no-desc-act is --act-order off.")
    var descActFlag: Bool?

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
    var activationOrder: GPTQSolverSettings.ActivationOrder { actOrderFlag ?? descActFlag.map { $0 ? .group : .off } ?? .static }
    var symmetric: Bool { symmetricFlag ?? true }
    var damp: Double { dampFlag ?? 0.01 }
    var trueSequential: Bool { trueSequentialFlag ?? true }
    var scaleFitting: GPTQSolverSettings.ScaleFitting { scaleFittingFlag ?? .sweep }
    var checkpointFormat: GPTQQuantizationConfig.CheckpointFormat { checkpointFormatFlag ?? .gptq }

    /// The flags given that only GPTQ's sweep reads (refused with --rtn, which rounds to nearest).
    var sweepGiven: [String] {
        [actOrderFlag.map { _ in "--act-order" }, descActFlag.map { $0 ? "--desc-act" : "--no-desc-act" }, dampFlag.map { _ in "--damp" },
         trueSequentialFlag.map { $0 ? "--true-sequential" : "--no-true-sequential" }, scaleFittingFlag.map { _ in "--scale-fitting" }].compactMap { $0 }
    }

    /// The flags given on the command line (refused for artefacts that do not read them).
    var given: [String] {
        [bitsFlag.map { _ in "--bits" }, actOrderFlag.map { _ in "--act-order" }, descActFlag.map { $0 ? "--desc-act" : "--no-desc-act" },
         symmetricFlag.map { $0 ? "--sym" : "--no-sym" }, dampFlag.map { _ in "--damp" },
         trueSequentialFlag.map { $0 ? "--true-sequential" : "--no-true-sequential" }, scaleFittingFlag.map { _ in "--scale-fitting" },
         checkpointFormatFlag.map { _ in "--checkpoint-format" }].compactMap { $0 }
    }

    func validate() throws {
        guard [2, 4, 8].contains(bits) else { throw ValidationError("--bits \(bits): GPTQ artefacts here have 2, 4 or 8 bits") }
        guard damp >= 0, damp <= 1 else { throw ValidationError("--damp \(damp): expected a fraction in [0, 1]") }
        if actOrderFlag != nil, let flag = descActFlag {
            throw ValidationError("\(flag ? "--desc-act" : "--no-desc-act") and --act-order say the same thing twice; give one")
        }
        if activationOrder == .static, scaleFittingFlag == .sweep {
            throw ValidationError("--scale-fitting sweep: static act-order fits every group on the original weights before the sweep "
                                  + "(its groups are not consecutive in the sweep); use it with --act-order group or off")
        }
    }

    /// The column order the artefact uses: none for round-to-nearest, which sweeps nothing.
    private func order(_ grid: GridOptions) -> GPTQSolverSettings.ActivationOrder { grid.rtn ? .off : activationOrder }

    func solverSettings(_ grid: GridOptions) -> GPTQSolverSettings {
        GPTQSolverSettings(bits: bits, groupSize: grid.groupSize == -1 ? nil : grid.groupSize, activationOrder: order(grid),
                           symmetric: symmetric, damp: damp, scaleFitting: scaleFitting,
                           zeroFloor: checkpointFormat == .gptq && !symmetric ? 1 : 0)
    }

    func quantizationConfig(_ grid: GridOptions) -> GPTQQuantizationConfig {
        let settings = solverSettings(grid), order = order(grid)
        return GPTQQuantizationConfig(
            bits: bits, groupSize: settings.groupSize, descAct: order == .group, symmetric: symmetric, dampPercent: damp,
            trueSequential: trueSequential, staticGroups: order == .static, checkpointFormat: checkpointFormat,
            meta: ["quantizer": .array([.string("quantgate:\(QuantGateVersion.string)")]), "method": .string(grid.rtn ? "rtn" : "gptq"),
                   "damp_auto_increment": .number(0.01), "act_order": .string(order.rawValue),
                   "scale_fitting": .string(settings.effectiveScaleFitting.rawValue)])
    }

    /// `GPTQ-W4G128-ACT` (static act-order), `GPTQ-W4G128-GACT` (group act-order), `RTN-W4G128`: the artefact's name suffix.
    func tag(_ grid: GridOptions) -> String {
        let suffix: [GPTQSolverSettings.ActivationOrder: String] = [.off: "", .static: "-ACT", .group: "-GACT"]
        return (grid.rtn ? "RTN" : "GPTQ") + "-W\(bits)" + (grid.groupSize == -1 ? "PC" : "G\(grid.groupSize)") + suffix[order(grid)]!
            + (symmetric ? "" : "-ASYM")
    }
}

extension GPTQSolverSettings.ScaleFitting: ExpressibleByArgument {}
extension GPTQSolverSettings.ActivationOrder: ExpressibleByArgument {}
extension GPTQQuantizationConfig.CheckpointFormat: ExpressibleByArgument {}

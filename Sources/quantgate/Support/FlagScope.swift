import ArgumentParser
import QuantGateFormats

/// Which artefacts read which flags: a flag given for artefacts that would ignore it is refused, naming the
/// flag and the targets, instead of being silently dropped.
struct FlagScope {
    var fp8: FP8Options
    var grid: GridOptions
    var gptq: GPTQOptions
    var awq: AWQOptions
    var shards: ShardOptions
    var calibrationData: CalibrationDataOptions

    /// - Parameters:
    ///   - artefacts: what the command writes, with the targets that asked for each.
    ///   - targets: the targets as the user named them (for the message).
    ///   - importanceFromData: whether a GGUF importance matrix would be measured on the calibration data (not
    ///     read from --imatrix FILE, not turned off by --no-imatrix).
    func check(_ artefacts: [ArtefactChoice], targets: String, importanceFromData: Bool = true) throws {
        let writes = Set(artefacts.map(\.kind))
        func refuse(_ flags: [String], unless kinds: Set<ArtefactKind>, _ what: String) throws {
            guard let flag = flags.first, writes.isDisjoint(with: kinds) else { return }
            let written = artefacts.map(\.description).joined(separator: ", ")
            throw ValidationError("\(flag) applies to \(what) only; --target\(targets.contains(",") ? "s" : "") \(targets) write\(artefacts.count == 1 ? "s" : "") \(written)")
        }
        try refuse(fp8.given, unless: [.fp8], "FP8 artefacts")
        try refuse(gptq.given, unless: [.gptq], "GPTQ artefacts")
        try refuse(awq.given, unless: [.awq], "AWQ artefacts")
        try refuse(grid.given, unless: [.gptq, .awq], "GPTQ and AWQ artefacts")
        try refuse(shards.given, unless: [.fp8, .gptq, .awq], "model-directory artefacts (FP8, GPTQ, AWQ)")
        if writes.contains(.awq) { _ = try awq.settings(grid) }
        if grid.rtn, writes.contains(.gptq), let flag = gptq.sweepGiven.first {
            throw ValidationError("\(flag) applies to GPTQ's sweep; --rtn rounds every weight to nearest, in column order, without a Hessian")
        }
        if let flag = calibrationData.given.first, !artefacts.contains(where: { calibrates($0, importanceFromData: importanceFromData) }) {
            throw ValidationError("\(flag): \(artefacts.map(\.description).joined(separator: ", ")) as asked here read\(artefacts.count == 1 ? "s" : "") no "
                                  + "calibration data (GGUF mixtures with an importance matrix, FP8 with static activation scales, and GPTQ and "
                                  + "AWQ without --rtn do)")
        }
    }

    /// Whether `artefact` is computed from calibration data: a GGUF mixture that uses an importance matrix (when
    /// `importanceFromData`: not --imatrix FILE, not --no-imatrix), FP8 with static activation scales, GPTQ and
    /// AWQ unless --rtn.
    func calibrates(_ artefact: ArtefactChoice, importanceFromData: Bool) -> Bool {
        switch artefact {
        case .gguf(let type): type.usesImportance && importanceFromData
        case .fp8: fp8.activations == .static
        case .gptq, .awq: !grid.rtn
        }
    }
}

extension ArtefactChoice {
    /// The artefact's kind, as targets name what they run.
    var kind: ArtefactKind {
        switch self {
        case .gguf: .gguf
        case .fp8: .fp8
        case .gptq: .gptq
        case .awq: .awq
        }
    }
}

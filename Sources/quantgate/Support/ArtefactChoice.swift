import ArgumentParser
import QuantGateFormats
import QuantGateQuantize

/// The artefact a target gets: its default, or the one `--format` names when the target runs it.
enum ArtefactChoice: Hashable, CustomStringConvertible {
    case gguf(GGUFFileType)
    case fp8
    case gptq
    case awq

    /// `--format` values: `gguf:MIXTURE`, `fp8` or `gptq`.
    static let formatHelp = "gguf:MIXTURE (Q4_K_M, Q8_0, …) for the CPU targets; fp8 for Hopper (default) and Ada; awq for Ada (default); gptq for Ampere, Volta, Turing"

    /// Resolves `format` (nil: the target's default) for `targetName`.
    /// - Throws: a usage error for an unknown target or a format the target does not run.
    init(target targetName: String, format: String?) throws {
        guard let target = HardwareTarget.named(targetName) else {
            throw ValidationError("unknown target \(targetName) (known: \(HardwareTarget.allNames.joined(separator: ", ")))")
        }
        let kind: ArtefactKind
        if let format {
            kind = Self.kind(ofFormat: format)
            guard kind == target.artefact || target.alsoRuns.contains(kind) else {
                throw ValidationError("--format \(format): target \(targetName) runs \(([target.artefact] + target.alsoRuns).map(\.rawValue).joined(separator: " or "))")
            }
        } else {
            kind = target.artefact
        }
        switch kind {
        case .gguf: self = .gguf(try GGUFFileType(formatFlag: format))
        case .fp8: self = .fp8
        case .gptq: self = .gptq
        case .awq: self = .awq
        }
    }

    /// The artefact kind a `--format` value names (`fp8`, `awq`, `gptq`; anything else is read as GGUF,
    /// whose parser then names what is wrong).
    static func kind(ofFormat format: String) -> ArtefactKind {
        let lowered = format.lowercased()
        return lowered.hasPrefix("gguf:") ? .gguf : ArtefactKind(rawValue: lowered) ?? .gguf
    }

    var isGGUF: Bool { if case .gguf = self { true } else { false } }

    var description: String {
        switch self {
        case .gguf(let type): "GGUF \(type.rawValue)"
        case .fp8: "FP8 (compressed-tensors)"
        case .gptq: "GPTQ"
        case .awq: "AWQ (AutoAWQ GEMM)"
        }
    }
}

import QuantGateFormats

/// The formats a report records for a candidate (``CandidateReport/format``), as the evaluator detects
/// them from the files, and the hardware-target artefact each one is.
public enum CandidateFormat: String, Sendable, CaseIterable {
    /// An unquantized checkpoint: no target's artefact.
    case safetensors
    case gguf
    /// FP8 W8A8 in llm-compressor's layout.
    case compressedTensors = "compressed-tensors"
    case gptq
    case awq

    /// What the report records for a candidate that could not be read at all (``CandidateReport/isUnreadable``).
    public static let unreadable = "unknown"

    /// The artefact kind of the target table this format is, nil for an unquantized checkpoint.
    public var artefact: ArtefactKind? {
        switch self {
        case .safetensors: nil
        case .gguf: .gguf
        case .compressedTensors: .fp8
        case .gptq: .gptq
        case .awq: .awq
        }
    }

    /// The structural check `format-for-target`: whether `target` runs this format, as its default
    /// artefact or one of ``HardwareTarget/alsoRuns``.
    public func check(for target: HardwareTarget, named name: String) -> StructuralCheck {
        let runs = [target.artefact] + target.alsoRuns
        let runsThis = artefact.map(runs.contains) ?? false
        let expected = runs.map { $0.rawValue }.joined(separator: " or ")
        let found = switch artefact {
        case nil: "an unquantized \(rawValue) checkpoint"
        case let kind? where kind.rawValue == rawValue: rawValue
        case let kind?: "\(rawValue) (\(kind.rawValue))"
        }
        return StructuralCheck(name: "format-for-target", passed: runsThis,
                               detail: "\(name) runs \(expected); the candidate is \(found)")
    }
}

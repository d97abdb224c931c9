import Crypto
import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateReport
import QuantGateSafetensors
import QuantGateTokenizer

/// A model read back from disk for evaluation, whatever its format: the original checkpoint
/// (a Hugging Face directory) or an artefact: a GGUF file, an FP8 compressed-tensors directory, a GPTQ
/// directory or an AutoAWQ GEMM directory.
/// The evaluator only ever sees what the files hold, never a quantizer's in-memory weights.
public struct ModelArtefact: Sendable {
    /// The formats an artefact is detected as: the ones a report records (``CandidateFormat``).
    public typealias Format = CandidateFormat

    /// The path as given.
    public let path: String
    public let format: Format
    public let configuration: LlamaConfiguration
    public let weights: any WeightSource
    public let tokenizer: Tokenizer
    /// The source checkpoint, for its own checks (nil for the quantized formats).
    public let source: ModelDirectory?
    /// The GGUF file, for structural checks (nil for other formats).
    public let gguf: GGUFFile?
    /// The FP8 checkpoint, for structural checks (nil for other formats).
    public let fp8: FP8Checkpoint?
    /// The GPTQ or AWQ checkpoint, for structural checks (nil for other formats).
    public let packed: (any PackedLinearCheckpoint)?
    /// The safetensors weights of a directory format (nil for GGUF).
    public var safetensors: SafetensorsCheckpoint? { source?.checkpoint ?? fp8?.checkpoint ?? packed?.checkpoint }
    /// The GPTQ checkpoint (nil for other formats).
    public var gptq: GPTQCheckpoint? { packed as? GPTQCheckpoint }
    /// The AWQ checkpoint (nil for other formats).
    public var awq: AWQCheckpoint? { packed as? AWQCheckpoint }

    /// Opens `path`, detecting the format from the files.
    /// - Throws: ``AssessmentError`` for a path that is neither, or the format reader's own error naming
    ///   the file and field (a truncated or corrupt artefact fails here, before any compute).
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AssessmentError.unreadable(path: path, reason: "no such file or directory")
        }
        self.path = path
        if isDirectory.boolValue && FP8Checkpoint.isCompressedTensors(directory: path) {
            let model = try FP8Model(directory: path)
            format = .compressedTensors
            configuration = model.configuration
            weights = model.weights
            tokenizer = model.tokenizer
            source = nil
            gguf = nil
            fp8 = model.checkpoint
            packed = nil
        } else if isDirectory.boolValue, let (kind, open) = Self.packedReader(directory: path) {
            let model = try PackedLinearModel(directory: path, open: open)
            format = kind
            configuration = model.configuration
            weights = model.weights
            tokenizer = model.tokenizer
            source = nil
            gguf = nil
            fp8 = nil
            packed = model.checkpoint
        } else if isDirectory.boolValue {
            let directory = try ModelDirectory(path: path)
            if let method = directory.configuration.declaredQuantization {
                throw AssessmentError.unreadable(path: path, reason: "config.json declares quantization_config.quant_method \"\(method)\"; "
                                                 + "QuantGate reads compressed-tensors (FP8), gptq and awq model directories and GGUF files")
            }
            format = .safetensors
            configuration = directory.configuration
            weights = directory.checkpoint
            tokenizer = try Tokenizer(directory: path)
            source = directory
            gguf = nil
            fp8 = nil
            packed = nil
        } else if Self.looksLikeGGUF(path) {
            let model = try GGUFModel(path: path)
            format = .gguf
            configuration = model.configuration
            weights = model.weights
            tokenizer = model.tokenizer
            source = nil
            gguf = model.file
            fp8 = nil
            packed = nil
        } else {
            throw AssessmentError.unreadable(
                path: path, reason: "is neither a model directory (config.json + safetensors, plain, compressed-tensors FP8, GPTQ or AWQ) nor a GGUF file")
        }
    }

    /// The reader of a GPTQ or AWQ directory, by its declared `quant_method`.
    private static func packedReader(directory: String) -> (Format, (String) throws -> any PackedLinearCheckpoint)? {
        if GPTQCheckpoint.isGPTQ(directory: directory) { return (.gptq, { try GPTQCheckpoint(directory: $0) }) }
        if AWQCheckpoint.isAWQ(directory: directory) { return (.awq, { try AWQCheckpoint(directory: $0) }) }
        return nil
    }

    /// A `.gguf` name or the GGUF magic: the GGUF reader then judges the rest (and names what is wrong).
    private static func looksLikeGGUF(_ path: String) -> Bool {
        if path.lowercased().hasSuffix(".gguf") { return true }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data("GGUF".utf8)
    }

    /// The file or directory name, as reports name the model.
    public var name: String { URL(fileURLWithPath: path).lastPathComponent }

    /// The quantization the artefact declares (`Q4_K_M`, …), when it declares one.
    public var quantization: String? {
        if let fp8 { return fp8.config.scheme.tag }
        if let gptq { return gptq.metadata["quantgate.scheme"] ?? "GPTQ-W\(gptq.config.bits)" }
        if let awq { return awq.metadata["quantgate.scheme"] ?? "AWQ-W4G\(awq.config.groupSize)" }
        guard let gguf else { return nil }
        if case .string(let declared)? = gguf["quantgate.file_type"] { return declared }
        if case .uint32(let id)? = gguf["general.file_type"], let type = GGUFFileType(llamaFileTypeID: id) { return type.rawValue }
        return nil
    }

    /// The hardware target the artefact records (`quantgate.target`), when it records one.
    public var recordedTarget: String? {
        if let fp8 { return fp8.metadata["quantgate.target"] }
        if let packed { return packed.metadata["quantgate.target"] }
        if case .string(let target)? = gguf?["quantgate.target"] { return target }
        return nil
    }

    /// The calibration data hash the artefact records, when it records one.
    public var calibrationDataHash: String? {
        if let fp8 { return fp8.metadata["quantgate.calibration.data_hash"] }
        if let packed { return packed.metadata["quantgate.calibration.data_hash"] }
        if case .string(let hash)? = gguf?["quantgate.calibration.data_hash"] { return hash }
        return nil
    }

    /// Refuses a source checkpoint that no command may use (``ModelDirectory/validate(progress:)``: tensors as
    /// config.json describes them, in float dtypes, every value finite). The quantized formats are judged by
    /// ``StructuralChecks/artefact(_:)`` instead.
    public func validateSource(progress: ((Int, Int, String) -> Void)? = nil) throws {
        try source?.validate(progress: progress)
    }

    /// Builds the runtime model over the artefact's own weights.
    public func model() throws -> LlamaModel {
        try LlamaModel(configuration: configuration, source: weights)
    }

    /// Every file of the artefact with its size and SHA-256, paths relative to the folder holding it.
    public func files() throws -> [ArtefactFile] {
        try ArtefactFiles.list(path: path)
    }

    /// A content hash: calibration's model fingerprint for a checkpoint directory, the file's SHA-256 otherwise.
    public func contentHash() throws -> String {
        switch format {
        case .safetensors, .compressedTensors, .gptq, .awq: try ModelFingerprint.compute(ModelDirectory(path: path))
        case .gguf: try FileDigest.sha256(path: path)
        }
    }

    /// The report's summary of this model.
    public func summary() throws -> ModelSummary {
        ModelSummary(name: name, format: format.rawValue, contentHash: try contentHash())
    }
}

/// Errors of the assessment itself (the formats' readers throw their own, equally specific ones).
public enum AssessmentError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case incompatible(candidate: String, reason: String)
    case invalidSetting(flag: String, reason: String)
    /// Candidates that could not be read, each reader's message: found before any forward pass.
    case unreadableCandidates([String])
    /// A model whose perplexity came out NaN or infinite (`value`): its weights or activations are not finite.
    case nonFinitePerplexity(path: String, value: Double)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .incompatible(let candidate, let reason): "\(candidate): \(reason)"
        case .invalidSetting(let flag, let reason): "\(flag) \(reason)"
        case .unreadableCandidates(let messages): messages.joined(separator: "\n")
        case .nonFinitePerplexity(let path, let value):
            "\(path): perplexity is \(value): the model's log-probabilities are not finite (see quantgate inspect \(path))"
        }
    }
}

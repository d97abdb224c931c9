import Dispatch
import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateSafetensors
import QuantGateTensors

/// What an FP8 export wrote.
public struct FP8ExportSummary: Codable, Sendable {
    public struct Module: Codable, Sendable {
        public var name: String
        public var shape: [Int]
        /// Largest and smallest weight scale.
        public var maxScale: Float, minScale: Float
        /// The static input scale (nil with dynamic activations).
        public var inputScale: Float?
    }
    public var scheme: String
    public var modules: [Module]
    /// Modules left in the source dtype (the config's ignore list).
    public var ignored: [String]
    public var files: [String]
    public var bytes: Int
    public var sourceBytes: Int
    public var seconds: Double
}

/// What pass 1 of an FP8 export established: which Linears are quantized, their weight scales, and the
/// `config.json` text; everything checked that can fail before calibration or writing.
public struct FP8ExportPlan: Sendable {
    public let directory: ModelDirectory
    public let scheme: FP8Scheme
    /// Quantized modules in checkpoint order, and the ignored Linears (the config's ignore list).
    public let quantized: [String], ignoreList: [String]
    let weightScales: [String: [Float]]
    let configText: String
}

/// Source checkpoint → FP8 compressed-tensors model directory, in two steps: ``plan(directory:scheme:ignore:progress:)``
/// checks the checkpoint and computes the weight scales; ``write(_:activationMaxima:metadata:maxShardBytes:to:replace:progress:)``
/// adds the input scales and writes the directory.
///
/// Every 2-D `*.weight` of a Linear (anything but an embedding) is quantized unless an `ignore` pattern
/// (or a default one: `lm_head`, MoE routers) matches its module; embeddings, norms, biases and ignored
/// modules are copied in their source dtype. Scales are stored in the weight's own dtype (bf16 or f16 as
/// llm-compressor does; f32 for an f32 model), and the quotients are rounded in it, so codes and scales
/// equal llm-compressor's. Every float tensor is checked finite in the plan, so a bad checkpoint fails
/// before calibration and before any file exists.
public enum FP8Exporter {
    /// Pass 1: resolves `ignore` (each pattern must match a Linear), refuses a split fused group, a
    /// source that already declares a quantization and any non-finite value, and computes every weight scale.
    public static func plan(directory: ModelDirectory, scheme: FP8Scheme, ignore: [ModulePattern],
                            progress: ((Int, Int, String) -> Void)? = nil) throws -> FP8ExportPlan {
        let checkpoint = directory.checkpoint
        let tensors = checkpoint.tensors
        let linears = tensors.filter(isLinearWeight).map { String($0.name.dropLast(".weight".count)) }
        for pattern in ignore where !linears.contains(where: pattern.matches) {
            throw FP8QuantizationError.unmatchedIgnore(pattern: pattern.text)
        }
        let patterns = ModulePattern.defaultIgnored + ignore
        let ignored = Set(linears.filter { module in patterns.contains { $0.matches(module) } })
        try checkFusedGroups(linears, ignored: ignored)
        let ignoreList = ["lm_head"] + linears.filter { ignored.contains($0) && $0 != "lm_head" }
        let configText = try ModelConfigText.adding(quantizationConfig: FP8QuantizationConfig(scheme: scheme, ignore: ignoreList).json,
                                                    toConfigOf: directory.path)
        var weightScales: [String: [Float]] = [:]
        var quantized: [String] = []
        for (position, tensor) in tensors.enumerated() where tensor.dtype.isFloatingPoint {
            progress?(position, tensors.count, "check \(tensor.name)")
            let module = String(tensor.name.dropLast(".weight".count))
            guard tensor.name.hasSuffix(".weight"), linears.contains(module), !ignored.contains(module) else {
                // Copied as stored: the shared scan reads it chunk by chunk.
                if let (stored, file) = checkpoint.locate(tensor.name), let found = FiniteScan.firstNonFinite(stored, in: file) {
                    throw ModelError.nonFiniteWeight(file: file.path, tensor: tensor.name, index: found.index, value: found.value)
                }
                continue
            }
            // Quantized: the scales' max |w| pass refuses a NaN or ±Inf as it goes.
            let values = try checkpoint.floats(named: tensor.name)
            weightScales[module] = try FP8Quantizer.weightScales(values, rows: tensor.shape[0], columns: tensor.shape[1],
                                                                 strategy: scheme.weights, storage: scaleDType(tensor.dtype),
                                                                 tensor: tensor.name)
            quantized.append(module)
        }
        return FP8ExportPlan(directory: directory, scheme: scheme, quantized: quantized, ignoreList: ignoreList,
                             weightScales: weightScales, configText: configText)
    }

    /// Pass 2: the input scales (static scheme) and the directory.
    /// - Parameters:
    ///   - activationMaxima: max |x| of each Linear module's input over the calibration set (static scheme).
    ///   - metadata: extra `__metadata__` entries (provenance) for every weights file.
    public static func write(_ plan: FP8ExportPlan, activationMaxima: [String: Float], metadata: [String: String],
                             maxShardBytes: Int, to output: String, replace: Bool,
                             progress: ((Int, Int, String) -> Void)? = nil) throws -> FP8ExportSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let checkpoint = plan.directory.checkpoint
        var inputScales: [String: Float] = [:]
        var modules: [FP8ExportSummary.Module] = []
        for module in plan.quantized {
            guard let (tensor, _) = checkpoint.locate(module + ".weight"), let scales = plan.weightScales[module] else { continue }
            if plan.scheme.activations == .static {
                guard let amax = activationMaxima[module] else { throw FP8QuantizationError.missingActivationStatistics(module: module) }
                guard amax.isFinite, let scale = FP8Quantizer.scale(amax: amax, storage: scaleDType(tensor.dtype)) else {
                    throw FP8QuantizationError.inputScaleOverflow(module: module, amax: amax, storage: scaleDType(tensor.dtype))
                }
                inputScales[module] = scale
            }
            modules.append(.init(name: module, shape: tensor.shape, maxScale: scales.max()!, minScale: scales.min()!,
                                 inputScale: inputScales[module]))
        }

        // The tensors to write, in checkpoint order, each produced when the writer reaches it.
        var pending: [PendingTensor] = []
        for tensor in checkpoint.tensors {
            let module = String(tensor.name.dropLast(".weight".count))
            guard let scales = plan.weightScales[module], tensor.name.hasSuffix(".weight") else {
                pending.append(.copy(tensor, from: checkpoint))
                continue
            }
            let storage = scaleDType(tensor.dtype)
            let (rows, columns) = (tensor.shape[0], tensor.shape[1])
            let (name, dtype) = (tensor.name, tensor.dtype)
            pending.append(PendingTensor(name: name, dtype: .float8E4M3, shape: tensor.shape) {
                FP8Quantizer.encode(try checkpoint.floats(named: name), rows: rows, columns: columns, scales: scales, dtype: dtype)
            })
            pending.append(PendingTensor(name: module + ".weight_scale", dtype: storage,
                                         shape: plan.scheme.weights == .channel ? [rows, 1] : [1],
                                         data: Float32Conversion.encode(scales, as: storage)))
            if let input = inputScales[module] {
                pending.append(PendingTensor(name: module + ".input_scale", dtype: storage, shape: [1],
                                             data: Float32Conversion.encode([input], as: storage)))
            }
        }
        // The writer calls producers in file order, one at a time; report progress as they run.
        let counter = ProgressCounter(total: pending.count, report: progress)
        let counted = pending.map { tensor in
            PendingTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape) {
                let bytes = try tensor.bytes()
                counter.step("write \(tensor.name)")
                return bytes
            }
        }
        let writer = CheckpointDirectoryWriter(output: output, replace: replace)
        try writer.write(tensors: counted, maxShardBytes: maxShardBytes, metadata: metadata.merging(["format": "pt"]) { a, _ in a },
                         config: plan.configText, companions: CheckpointDirectoryWriter.companionFiles(of: plan.directory.path))
        let (files, bytes) = writer.writtenFiles()
        return FP8ExportSummary(scheme: plan.scheme.description, modules: modules, ignored: plan.ignoreList, files: files, bytes: bytes,
                                sourceBytes: checkpoint.tensors.reduce(0) { $0 + $1.byteCount },
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// ``plan(directory:scheme:ignore:progress:)`` then ``write(_:activationMaxima:metadata:maxShardBytes:to:replace:progress:)``.
    public static func export(directory: ModelDirectory, scheme: FP8Scheme, ignore: [ModulePattern],
                              activationMaxima: [String: Float], metadata: [String: String], maxShardBytes: Int,
                              to output: String, replace: Bool) throws -> FP8ExportSummary {
        try write(plan(directory: directory, scheme: scheme, ignore: ignore), activationMaxima: activationMaxima, metadata: metadata,
                  maxShardBytes: maxShardBytes, to: output, replace: replace)
    }

    /// A Linear's weight: a 2-D `*.weight` (float or FP8) that is not an embedding table.
    public static func isLinearWeight(_ tensor: TensorInfo) -> Bool {
        guard tensor.name.hasSuffix(".weight"), tensor.shape.count == 2, tensor.dtype.isFloatingPoint else { return false }
        let module = tensor.name.dropLast(".weight".count)
        let leaf = module.split(separator: ".").last.map(String.init) ?? ""
        return !["embed_tokens", "wte", "wpe", "word_embeddings", "embeddings", "embed"].contains(leaf)
    }

    /// The scale dtype for a weight stored as `dtype`: f16 and bf16 keep theirs, anything else f32.
    static func scaleDType(_ dtype: DType) -> DType {
        dtype == .float16 || dtype == .bfloat16 ? dtype : .float32
    }

    /// vLLM fuses q/k/v and gate/up into one layer each and refuses a checkpoint that quantizes part of one.
    static func checkFusedGroups(_ linears: [String], ignored: Set<String>) throws {
        for module in linears where ignored.contains(module) {
            let members = FusedLinears.group(of: module).filter(linears.contains)
            let quantized = members.filter { !ignored.contains($0) }
            if !quantized.isEmpty { throw FP8QuantizationError.splitFusedGroup(quantized: quantized, ignored: members.filter(ignored.contains)) }
        }
    }
}

/// Counts writer steps for a progress callback (the writer runs producers sequentially).
private final class ProgressCounter: @unchecked Sendable {
    private var done = 0
    private let total: Int
    private let report: ((Int, Int, String) -> Void)?

    init(total: Int, report: ((Int, Int, String) -> Void)?) {
        (self.total, self.report) = (total, report)
    }

    func step(_ label: String) {
        done = min(done + 1, total)
        report?(done, total, label)
    }
}

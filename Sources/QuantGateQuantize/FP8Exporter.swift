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

/// Source checkpoint → FP8 compressed-tensors model directory.
///
/// Every 2-D `*.weight` of a Linear (anything but an embedding) is quantized unless a pattern in
/// `ignore` matches its module; embeddings, norms, biases and ignored modules are copied in their
/// source dtype. Scales are stored in the weight's own dtype (bf16 or f16 as llm-compressor does; f32
/// for an f32 model), and the quotients are rounded in it, so codes and scales equal llm-compressor's. Every float tensor is checked finite first, and nothing is written until every
/// scale is known, so a bad checkpoint fails before any file exists.
public enum FP8Exporter {
    /// - Parameters:
    ///   - activationMaxima: max |x| of each Linear module's input over the calibration set (static scheme).
    ///   - metadata: extra `__metadata__` entries (provenance) for every weights file.
    public static func export(directory: ModelDirectory, scheme: FP8Scheme, ignore: [ModulePattern],
                              activationMaxima: [String: Float], metadata: [String: String], maxShardBytes: Int,
                              to output: String, replace: Bool,
                              progress: ((Int, Int, String) -> Void)? = nil) throws -> FP8ExportSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let checkpoint = directory.checkpoint
        let tensors = checkpoint.tensors
        let linears = tensors.filter(isLinearWeight).map { String($0.name.dropLast(".weight".count)) }
        let ignored = Set(linears.filter { module in ignore.contains { $0.matches(module) } })
        try checkFusedGroups(linears, ignored: ignored)

        // Pass 1: every float tensor finite; every scale computed.
        var weightScales: [String: [Float]] = [:], inputScales: [String: Float] = [:]
        var modules: [FP8ExportSummary.Module] = []
        for (position, tensor) in tensors.enumerated() where tensor.dtype.isFloatingPoint {
            progress?(position, tensors.count * 2, "check \(tensor.name)")
            let values = try checkpoint.floats(named: tensor.name)
            let module = String(tensor.name.dropLast(".weight".count))
            guard tensor.name.hasSuffix(".weight"), linears.contains(module), !ignored.contains(module) else {
                _ = try values.withUnsafeBufferPointer { try FP8Quantizer.absoluteMaximum($0, tensor: tensor.name) }
                continue
            }
            let storage = scaleDType(tensor.dtype)
            let scales = try FP8Quantizer.weightScales(values, rows: tensor.shape[0], columns: tensor.shape[1],
                                                       strategy: scheme.weights, storage: storage, tensor: tensor.name)
            weightScales[module] = scales
            if scheme.activations == .static {
                guard let amax = activationMaxima[module] else { throw FP8QuantizationError.missingActivationStatistics(module: module) }
                guard let scale = FP8Quantizer.scale(amax: amax, storage: storage) else {
                    throw FP8QuantizationError.scaleOverflow(tensor: module + ".input_scale", amax: amax, storage: storage)
                }
                inputScales[module] = scale
            }
            modules.append(.init(name: module, shape: tensor.shape, maxScale: scales.max()!, minScale: scales.min()!,
                                 inputScale: inputScales[module]))
        }

        // Pass 2: the tensors to write, in checkpoint order, each produced when the writer reaches it.
        var pending: [PendingTensor] = []
        let total = tensors.count
        for tensor in tensors {
            let module = String(tensor.name.dropLast(".weight".count))
            guard let scales = weightScales[module], tensor.name.hasSuffix(".weight") else {
                pending.append(PendingTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape) {
                    guard let (info, file) = checkpoint.locate(tensor.name) else { throw SafetensorsError.tensorNotFound(name: tensor.name, location: directory.path) }
                    return file.withBytes(of: info) { Array($0) }
                })
                continue
            }
            let storage = scaleDType(tensor.dtype)
            let (rows, columns) = (tensor.shape[0], tensor.shape[1])
            let name = tensor.name
            let dtype = tensor.dtype
            pending.append(PendingTensor(name: name, dtype: .float8E4M3, shape: tensor.shape) {
                FP8Quantizer.encode(try checkpoint.floats(named: name), rows: rows, columns: columns, scales: scales, dtype: dtype)
            })
            pending.append(PendingTensor(name: module + ".weight_scale", dtype: storage,
                                         shape: scheme.weights == .channel ? [rows, 1] : [1],
                                         data: Float32Conversion.encode(scales, as: storage)))
            if let input = inputScales[module] {
                pending.append(PendingTensor(name: module + ".input_scale", dtype: storage, shape: [1],
                                             data: Float32Conversion.encode([input], as: storage)))
            }
        }
        // The writer calls producers in file order, one at a time; report progress as they run.
        let counter = ProgressCounter(offset: total, total: total * 2, report: progress)
        let counted = pending.map { tensor in
            PendingTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape) {
                let bytes = try tensor.bytes()
                counter.step("write \(tensor.name)")
                return bytes
            }
        }
        let ignoreList = ["lm_head"] + linears.filter { ignored.contains($0) && $0 != "lm_head" }
        let config = FP8QuantizationConfig(scheme: scheme, ignore: ignoreList)
        let configText = try ModelConfigText.adding(quantizationConfig: config.json, toConfigOf: directory.path)
        let writer = CheckpointDirectoryWriter(output: output, replace: replace)
        try writer.write(tensors: counted, maxShardBytes: maxShardBytes, metadata: metadata.merging(["format": "pt"]) { a, _ in a },
                         config: configText, companions: CheckpointDirectoryWriter.companionFiles(of: directory.path))
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).sorted()
        let bytes = files.reduce(0) { sum, file in
            sum + ((try? FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: output).appendingPathComponent(file).path)[.size] as? Int) ?? 0)
        }
        return FP8ExportSummary(scheme: scheme.description, modules: modules, ignored: ignoreList, files: files, bytes: bytes,
                                sourceBytes: tensors.reduce(0) { $0 + $1.byteCount },
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
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
        let groups = [["q_proj", "k_proj", "v_proj"], ["gate_proj", "up_proj"]]
        var parents: [String] = []
        for module in linears {
            guard let dot = module.lastIndex(of: ".") else { continue }
            let parent = String(module[..<dot])
            if !parents.contains(parent) { parents.append(parent) }
        }
        for parent in parents {
            for group in groups {
                let members = group.map { "\(parent).\($0)" }.filter(linears.contains)
                let out = members.filter(ignored.contains)
                if !out.isEmpty && out.count != members.count {
                    throw FP8QuantizationError.splitFusedGroup(quantized: members.filter { !ignored.contains($0) }, ignored: out)
                }
            }
        }
    }
}

/// Counts writer steps for a progress callback (the writer runs producers sequentially).
private final class ProgressCounter: @unchecked Sendable {
    private var done: Int
    private let total: Int
    private let report: ((Int, Int, String) -> Void)?

    init(offset: Int, total: Int, report: ((Int, Int, String) -> Void)?) {
        (done, self.total, self.report) = (offset, total, report)
    }

    func step(_ label: String) {
        done = min(done + 1, total)
        report?(done, total, label)
    }
}

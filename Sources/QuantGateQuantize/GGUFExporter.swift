import CKernels
import Dispatch
import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateTensors

/// What an export wrote, per tensor and in total.
public struct GGUFExportSummary: Codable, Sendable {
    public struct Tensor: Codable, Sendable {
        public var name: String
        public var shape: [Int]
        public var type: String
        public var bytes: Int
        public var usedImportance: Bool
    }

    public var path: String
    public var fileType: String
    public var tensors: [Tensor]
    public var fileBytes: Int
    public var parameters: Int
    public var seconds: Double

    /// Bits per weight over all tensors.
    public var bitsPerWeight: Double { Double(tensors.reduce(0) { $0 + $1.bytes } * 8) / Double(max(parameters, 1)) }
}

/// Writes a Hugging Face Llama-family checkpoint as a GGUF file llama.cpp runs: the `llama`
/// (llama, mistral) or `qwen2` architecture, tensors named and shaped as llama.cpp's converter
/// names them (q and k rows interleaved for `llama`), each tensor in the type llama.cpp's mixture
/// rules give it, quantized with our bit-exact ggml kernels, weighted by the importance matrix
/// when one is given.
public enum GGUFExporter {
    /// Refuses, before writing, tensors that disagree with config.json or are not floats; a NaN or ±Inf
    /// is refused as its tensor is read, and the partial file removed (callers that must refuse before any
    /// work validate the source first: ``ModelDirectory/validate(progress:)``).
    /// - Parameters:
    ///   - provenance: extra `quantgate.*` keys (settings, data hash); never local paths.
    ///   - progress: after each tensor: (done, total, name).
    public static func export(directory: ModelDirectory, fileType: GGUFFileType, importance: ImportanceMatrix?,
                              provenance: [(key: String, value: GGUFValue)] = [], to path: String,
                              progress: ((Int, Int, String) -> Void)? = nil) throws -> GGUFExportSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        try directory.check().validate(directory: directory.path)
        let c = directory.configuration
        let architecture = c.family == .qwen2 ? "qwen2" : "llama"
        if case .llama3 = c.ropeScaling, architecture != "llama" {
            throw GGUFError.unsupported(file: directory.path, field: "rope_scaling",
                                        reason: "llama3 RoPE scaling on a \(architecture) model (llama.cpp reads rope_freqs for llama only)")
        }
        let names = directory.checkpoint.tensors.map(\.name)
        let hasOutput = names.contains("lm_head.weight") && !c.tieWordEmbeddings
        let mixture = QuantMixture(fileType: fileType, layerCount: c.layerCount, headCount: c.headCount,
                                   kvHeadCount: c.kvHeadCount, hasOutputTensor: hasOutput, hasImatrix: importance != nil,
                                   architecture: c.family == .qwen2 ? .qwen2 : .llama)
        var metadata = modelMetadata(c, architecture: architecture, name: URL(fileURLWithPath: directory.path).lastPathComponent,
                                     fileType: fileType)
        metadata += try GGUFTokenizerWriter.metadata(directory: directory.path, vocabularySize: c.vocabSize)
        metadata.append(("quantgate.version", .string(QuantGateVersion.string)))
        metadata.append(("quantgate.file_type", .string(fileType.rawValue)))
        metadata.append(("quantgate.importance", .string(importance?.source ?? "none")))
        metadata += provenance

        var summary: [GGUFExportSummary.Tensor] = []
        var pending: [GGUFPendingTensor] = []
        if let factors = RopeFrequencyFactors.llama3(c) {
            // llama.cpp takes llama3 scaling as per-frequency divisors of θ, in a tensor of its own.
            pending.append(GGUFPendingTensor(name: "rope_freqs.weight", shape: [factors.count], type: .f32) {
                factors.withUnsafeBytes { Array($0) }
            })
            summary.append(.init(name: "rope_freqs.weight", shape: [factors.count], type: "F32", bytes: factors.count * 4,
                                 usedImportance: false))
            metadata += RopeFrequencyFactors.provenance(c)
        }
        for name in orderedNames(names, layers: c.layerCount) {
            guard !(name == "lm_head.weight" && !hasOutput), let ggufName = GGUFTensorNames.gguf(name),
                  let (info, file) = directory.checkpoint.locate(name) else { continue }
            let shape = Array(info.shape.reversed())
            let type = mixture.type(forTensor: ggufName, shape: shape)
            let weights = type.isQuantized ? importance?.values[ggufName] : nil
            if let weights, weights.count != shape[0] {
                throw GGUFError.malformed(file: importance?.source ?? "imatrix", field: ggufName,
                                          reason: "has \(weights.count) columns, the tensor \(shape[0])")
            }
            let rotaryHeads: Int? = architecture != "llama" ? nil
                : name.contains("self_attn.q_proj.") ? c.headCount : name.contains("self_attn.k_proj.") ? c.kvHeadCount : nil
            pending.append(GGUFPendingTensor(name: ggufName, shape: shape, type: type) {
                var values = try file.floats(named: name)
                try FiniteScan.check(values, tensor: name, file: file.path)
                if let rotaryHeads {
                    values = RotaryRowOrder.interleave(values, heads: rotaryHeads, columns: shape.count == 2 ? shape[0] : 1)
                }
                return encode(values, rowLength: shape[0], type: type, importance: weights)
            })
            summary.append(.init(name: ggufName, shape: shape, type: type.name, bytes: pending.last!.byteCount,
                                 usedImportance: weights != nil))
        }
        try GGUFWriter.write(to: path, metadata: metadata, tensors: pending, progress: progress)
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return GGUFExportSummary(
            path: path, fileType: fileType.rawValue, tensors: summary, fileBytes: fileBytes,
            parameters: summary.filter { $0.name != "rope_freqs.weight" }.reduce(0) { $0 + $1.shape.reduce(1, *) },
            seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// `general.*` and `<arch>.*` keys, typed as llama.cpp's loader requires (counts UINT32, floats FLOAT32).
    static func modelMetadata(_ c: LlamaConfiguration, architecture a: String, name: String, fileType: GGUFFileType)
        -> [(key: String, value: GGUFValue)] {
        var keys: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string(a)),
            ("general.type", .string("model")),
            ("general.name", .string(name)),
            ("general.file_type", .uint32(fileType.llamaFileTypeID)),
            ("general.quantization_version", .uint32(2)),
        ]
        keys += [
            ("\(a).context_length", .uint32(UInt32(c.maxPositionEmbeddings))),
            ("\(a).embedding_length", .uint32(UInt32(c.hiddenSize))),
            ("\(a).block_count", .uint32(UInt32(c.layerCount))),
            ("\(a).feed_forward_length", .uint32(UInt32(c.intermediateSize))),
            ("\(a).attention.head_count", .uint32(UInt32(c.headCount))),
            ("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeadCount))),
            ("\(a).attention.layer_norm_rms_epsilon", .float32(Float(c.rmsNormEps))),
            ("\(a).rope.freq_base", .float32(Float(c.ropeTheta))),
        ]
        if a == "llama" {  // the converter writes these two for llama only
            keys.append(("\(a).rope.dimension_count", .uint32(UInt32(c.headDim))))
            keys.append(("\(a).vocab_size", .uint32(UInt32(c.vocabSize))))
        }
        if c.headDim * c.headCount != c.hiddenSize {
            keys.append(("\(a).attention.key_length", .uint32(UInt32(c.headDim))))
            keys.append(("\(a).attention.value_length", .uint32(UInt32(c.headDim))))
        }
        if case .linear(let factor) = c.ropeScaling {
            keys.append(("\(a).rope.scaling.type", .string("linear")))
            keys.append(("\(a).rope.scaling.factor", .float32(Float(factor))))
        }
        return keys
    }

    /// Checkpoint tensors in llama.cpp's order: embeddings, blocks by layer, final norm, head.
    static func orderedNames(_ names: [String], layers: Int) -> [String] {
        func rank(_ name: String) -> (Int, String) {
            if name.hasPrefix("model.embed_tokens") { return (-1, name) }
            if name.hasPrefix("model.layers.") {
                let layer = Int(name.split(separator: ".")[2]) ?? layers
                return (layer, name)
            }
            return (layers + (name.hasPrefix("lm_head") ? 1 : 0), name)
        }
        return names.sorted { rank($0) < rank($1) }
    }

    /// The stored bytes of `values` (rows of `rowLength`) in `type`; rows quantized in parallel.
    static func encode(_ values: [Float], rowLength: Int, type: GGMLType, importance: [Float]?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: type.rowBytes(rowLength) * (values.count / rowLength))
        values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                let input = UnsafeSendable(source.baseAddress!)
                let output = UnsafeSendable(destination.baseAddress!)
                let halves = UnsafeMutableRawPointer(output.pointer).assumingMemoryBound(to: UInt16.self)
                switch type {
                case .f32:
                    for i in 0..<values.count {
                        UnsafeMutableRawPointer(output.pointer).storeBytes(of: values[i].bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                    }
                case .f16:
                    qg_f32_to_f16(input.pointer, halves, Int64(values.count))
                case .bf16:
                    qg_f32_to_bf16(input.pointer, halves, Int64(values.count))
                default:
                    let rows = values.count / rowLength
                    let chunk = max(1, min(64, rows / (4 * ProcessInfo.processInfo.activeProcessorCount) + 1))
                    let rowBytes = type.rowBytes(rowLength)
                    importance.withUnsafeBufferPointerIfPresent { weights in
                        let w = weights.map { UnsafeSendable($0.baseAddress!) }
                        DispatchQueue.concurrentPerform(iterations: (rows + chunk - 1) / chunk) { index in
                            let first = index * chunk
                            let count = min(chunk, rows - first)
                            qg_quantize_rows(Int32(type.rawValue), input.pointer + first * rowLength,
                                             output.pointer + first * rowBytes, Int64(count), Int64(rowLength), w?.pointer)
                        }
                    }
                }
            }
        }
        return out
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a buffer over the array, or nil.
    func withUnsafeBufferPointerIfPresent<R>(_ body: (UnsafeBufferPointer<Float>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0) }
        case .none: body(nil)
        }
    }
}

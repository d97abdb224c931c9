import Dispatch
import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateSafetensors
import QuantGateTensors

/// What AWQ did, with the settings and provenance: the artefact's `quantization_report.json` (no timings,
/// so two runs write the same bytes).
public struct AWQQuantizationReport: Codable, Sendable, Equatable {
    public struct Layer: Codable, Sendable, Equatable {
        public var module: String
        /// `[out, in]`.
        public var shape: [Int]
        /// Mean clamp bound relative to each group's max |w| (nil: not clipped).
        public var clipRatio: Double?
    }
    /// `awq` or `rtn`.
    public var method: String
    public var quantizationConfig: JSONValue
    /// α grid points, duo scaling, clip steps and clip tokens.
    public var grid: Int, duoScaling: Bool, clipSteps: Int?, clipTokens: Int?
    /// `quantgate.*` entries: tool version, target, scheme, calibration data hash and settings.
    public var provenance: [String: String]
    /// Every scaling group, block by block.
    public var groups: [AWQGroupReport]
    /// In checkpoint order.
    public var layers: [Layer]

    /// The file's name in the artefact directory.
    public static let fileName = "quantization_report.json"
}

/// What an AWQ export wrote: the report, with files and timing.
public struct AWQExportSummary: Codable, Sendable {
    public var report: AWQQuantizationReport
    public var files: [String]
    public var bytes: Int
    public var sourceBytes: Int
    /// Seconds of the whole export (calibration and searches included).
    public var seconds: Double
}

/// One AWQ block ready for ``AWQExporter/write(_:config:blocks:settings:provenance:maxShardBytes:to:replace:started:)``.
public struct AWQExportBlock: Sendable {
    /// One quantized Linear: its report line, its packed tensors and its f16 bias (read back from the spool).
    public struct Linear: Sendable {
        public let layer: AWQQuantizationReport.Layer
        public let tensors: [PendingTensor]
        public let bias: PendingTensor?
    }
    public let layer: Int
    /// The RMSNorm weights after absorbing the inverse scales.
    public let inputNorm: [Float], postAttentionNorm: [Float]
    public let groups: [AWQGroupReport]
    /// By module name.
    public let linears: [String: Linear]
}

/// Source checkpoint → AutoAWQ GEMM model directory (../shared/design/FORMATS.md §2): per decoder-block
/// Linear `qweight` and `qzeros` (int32, interleaved along the outputs) and `scales` (f16), its bias in f16
/// as `WQLinear_GEMM` keeps it; the RMSNorm weights that absorbed AWQ's scales, in their source dtype;
/// everything else (embeddings, final norm, `lm_head`) copied byte for byte; `config.json` with
/// `quantization_config`.
public enum AWQExporter {
    /// Checks the checkpoint (no quantization yet, every value finite, every block Linear fitting the GEMM
    /// layout with `config.groupSize`) before any calibration.
    public static func plan(directory: ModelDirectory, config: AWQQuantizationConfig,
                            progress: ((Int, Int, String) -> Void)? = nil) throws -> PackedExportPlan {
        try PackedExport.plan(directory: directory, quantizationConfig: config.json, progress: progress) { module, shape in
            guard shape[0] % AWQQuantizationConfig.codesPerWord == 0, shape[1] % config.groupSize == 0 else {
                throw AWQError.shapeNotPackable(module: module, shape: shape, groupSize: config.groupSize)
            }
        }
    }

    /// One block's result as the directory will hold it: the scaled norms, the report lines, and every Linear's
    /// packed tensors (`qweight`, `qzeros`, `scales`, and its f16 bias) parked in `spool`, so the codes leave
    /// memory as soon as they are packed.
    public static func block(_ result: AWQBlockResult, spool: TensorSpool) throws -> AWQExportBlock {
        var linears: [String: AWQExportBlock.Linear] = [:]
        for entry in result.linears {
            let (module, linear) = (entry.module, entry.linear)
            let (rows, columns, k) = (linear.rows, linear.columns, AWQQuantizationConfig.codesPerWord)
            let tensors = [
                PackedExport.int32Tensor(module + ".qweight", shape: [columns, rows / k],
                                         AWQPacking.packWeight(codes: linear.codes, rows: rows, columns: columns)),
                PackedExport.int32Tensor(module + ".qzeros", shape: [linear.groups, rows / k],
                                         AWQPacking.packZeros(linear.zeros, groups: linear.groups, rows: rows)),
                PendingTensor(name: module + ".scales", dtype: .float16, shape: [linear.groups, rows],
                              data: Float32Conversion.encode(linear.scales, as: .float16)),
            ]
            let bias = entry.bias.map {
                PendingTensor(name: module + ".bias", dtype: .float16, shape: [$0.count], data: Float32Conversion.encode($0, as: .float16))
            }
            linears[module] = AWQExportBlock.Linear(
                layer: .init(module: module, shape: [rows, columns], clipRatio: entry.clipRatio),
                tensors: try tensors.map(spool.park), bias: try bias.map(spool.park))
        }
        return AWQExportBlock(layer: result.layer, inputNorm: result.inputNorm, postAttentionNorm: result.postAttentionNorm,
                              groups: result.groups, linears: linears)
    }

    /// Writes the directory from every block's ``block(_:spool:)``.
    /// - Parameter provenance: `quantgate.*` entries for every weights file's `__metadata__` and the report.
    public static func write(_ plan: PackedExportPlan, config: AWQQuantizationConfig, blocks: [AWQExportBlock], settings: AWQSettings,
                             provenance: [String: String], maxShardBytes: Int, to output: String, replace: Bool,
                             started: UInt64 = DispatchTime.now().uptimeNanoseconds) throws -> AWQExportSummary {
        let checkpoint = plan.directory.checkpoint
        var results: [String: AWQExportBlock.Linear] = [:]
        var norms: [String: [Float]] = [:]
        for block in blocks {
            results.merge(block.linears) { a, _ in a }
            norms["model.layers.\(block.layer).input_layernorm.weight"] = block.inputNorm
            norms["model.layers.\(block.layer).post_attention_layernorm.weight"] = block.postAttentionNorm
        }
        let planned = Set(plan.modules)
        var pending: [PendingTensor] = []
        var layers: [AWQQuantizationReport.Layer] = []
        for tensor in checkpoint.tensors {
            if let values = norms[tensor.name] {
                pending.append(PendingTensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                                             data: Float32Conversion.encode(values, as: tensor.dtype)))
                continue
            }
            let (module, suffix) = split(tensor.name)
            guard planned.contains(module) else {
                pending.append(.copy(tensor, from: checkpoint))
                continue
            }
            guard let result = results[module] else { throw AWQError.missingResult(module: module) }
            if suffix == "bias" {
                guard let bias = result.bias else { throw AWQError.missingResult(module: tensor.name) }
                pending.append(bias)
                continue
            }
            layers.append(result.layer)
            pending += result.tensors
        }
        let report = AWQQuantizationReport(
            method: settings.searchScales ? "awq" : "rtn", quantizationConfig: config.json, grid: settings.grid,
            duoScaling: settings.duoScaling, clipSteps: settings.clip ? settings.clipSteps : nil,
            clipTokens: settings.clip ? settings.clipTokens : nil, provenance: provenance,
            groups: blocks.flatMap(\.groups), layers: layers)
        let (files, bytes) = try PackedExport.write(plan, tensors: pending, extraFiles: [AWQQuantizationReport.fileName: try PackedExport.reportText(report)],
                                                    provenance: provenance, maxShardBytes: maxShardBytes, to: output, replace: replace)
        return AWQExportSummary(report: report, files: files, bytes: bytes, sourceBytes: checkpoint.tensors.reduce(0) { $0 + $1.byteCount },
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    /// `model.layers.0.mlp.up_proj.bias` → (`model.layers.0.mlp.up_proj`, `bias`).
    private static func split(_ name: String) -> (module: String, suffix: String) {
        guard let dot = name.lastIndex(of: ".") else { return (name, "") }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }
}

import Dispatch
import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateSafetensors
import QuantGateTensors

/// What GPTQ did per Linear, with the settings and provenance: the artefact's `quantization_report.json`
/// (no timings, so two runs write the same bytes).
public struct GPTQQuantizationReport: Codable, Sendable, Equatable {
    public struct Layer: Codable, Sendable, Equatable {
        public var module: String
        /// `[out, in]`.
        public var shape: [Int]
        /// The reference's loss (``GPTQLayerResult/loss``).
        public var loss: Double
        /// The dampening that made the factorization succeed (nil for round-to-nearest).
        public var damp: Double?
        public var deadColumns: Int
    }
    /// `gptq` or `rtn`.
    public var method: String
    public var quantizationConfig: JSONValue
    public var scaleFitting: String
    /// `quantgate.*` entries: tool version, target, scheme, calibration data hash and settings.
    public var provenance: [String: String]
    /// In checkpoint order.
    public var layers: [Layer]

    /// The file's name in the artefact directory.
    public static let fileName = "quantization_report.json"
}

/// What a GPTQ export wrote: the report, with timings and files.
public struct GPTQExportSummary: Codable, Sendable {
    public var report: GPTQQuantizationReport
    /// Seconds of each Linear's GPTQ sweep, in the report's order.
    public var layerSeconds: [Double]
    public var files: [String]
    public var bytes: Int
    public var sourceBytes: Int
    /// Seconds spent in GPTQ sweeps (all Linears) and in the whole export (calibration included).
    public var solverSeconds: Double, seconds: Double
}

/// One quantized Linear ready for ``GPTQExporter/write(_:config:modules:method:scaleFitting:provenance:maxShardBytes:to:replace:started:)``.
public struct GPTQExportModule: Sendable {
    public let layer: GPTQQuantizationReport.Layer
    /// Seconds of its GPTQ sweep.
    public let seconds: Double
    /// Its packed tensors, read back from the spool when the writer reaches them.
    public let tensors: [PendingTensor]
}

/// Source checkpoint → GPTQ model directory (AutoGPTQ/GPTQModel layout, ../shared/design/FORMATS.md §3):
/// per decoder-block Linear `qweight`, `qzeros`, `scales` (f16) and `g_idx`; everything else (embeddings,
/// norms, biases, `lm_head`) copied byte for byte; `config.json` with `quantization_config`, and
/// `quantize_config.json` for AutoGPTQ-era loaders.
public enum GPTQExporter {
    /// Checks the checkpoint (no quantization yet, every value finite, every block Linear packable with
    /// this grid) before any calibration.
    public static func plan(directory: ModelDirectory, config: GPTQQuantizationConfig,
                            progress: ((Int, Int, String) -> Void)? = nil) throws -> PackedExportPlan {
        try PackedExport.plan(directory: directory, quantizationConfig: config.json, progress: progress) { module, shape in
            let (rows, columns) = (shape[0], shape[1])
            guard rows % config.codesPerWord == 0, columns % config.codesPerWord == 0 else {
                throw GPTQError.shapeNotPackable(module: module, shape: shape, bits: config.bits)
            }
            if let group = config.groupSize, group > columns {
                throw GPTQError.badGroupSize(module: module, groupSize: group, columns: columns)
            }
        }
    }

    /// One Linear's result as the directory will hold it: its report line and its four tensors (`qweight`,
    /// `qzeros`, `scales`, `g_idx`), parked in `spool` so the codes leave memory as soon as they are packed.
    public static func module(_ module: String, _ result: GPTQLayerResult, config: GPTQQuantizationConfig,
                              spool: TensorSpool) throws -> GPTQExportModule {
        let linear = result.linear
        let (rows, columns, k) = (linear.rows, linear.columns, config.codesPerWord)
        let qweight = GPTQPacking.packWeight(codes: linear.codes, rows: rows, columns: columns, bits: config.bits)
        let qzeros = GPTQPacking.packZeros(linear.zeros, groups: linear.groups, rows: rows, bits: config.bits,
                                           offset: config.checkpointFormat.zeroOffset)
        let tensors = [
            PackedExport.int32Tensor(module + ".qweight", shape: [columns / k, rows], qweight),
            PackedExport.int32Tensor(module + ".qzeros", shape: [linear.groups, rows / k], qzeros),
            PendingTensor(name: module + ".scales", dtype: .float16, shape: [linear.groups, rows],
                          data: Float32Conversion.encode(linear.scales, as: .float16)),
            PackedExport.int32Tensor(module + ".g_idx", shape: [columns], linear.groupIndex),
        ]
        return GPTQExportModule(
            layer: .init(module: module, shape: [rows, columns], loss: result.loss, damp: result.damp, deadColumns: result.deadColumns),
            seconds: result.seconds, tensors: try tensors.map(spool.park))
    }

    /// Writes the directory from each planned module's ``module(_:_:config:spool:)``.
    /// - Parameters:
    ///   - modules: every planned module's packed result, by module name.
    ///   - provenance: `quantgate.*` entries for every weights file's `__metadata__` and the report.
    public static func write(_ plan: PackedExportPlan, config: GPTQQuantizationConfig, modules: [String: GPTQExportModule], method: String,
                             scaleFitting: String, provenance: [String: String], maxShardBytes: Int, to output: String, replace: Bool,
                             started: UInt64 = DispatchTime.now().uptimeNanoseconds) throws -> GPTQExportSummary {
        let checkpoint = plan.directory.checkpoint
        var pending: [PendingTensor] = []
        var layers: [GPTQQuantizationReport.Layer] = []
        var layerSeconds: [Double] = []
        let planned = Set(plan.modules)
        for tensor in checkpoint.tensors {
            let module = String(tensor.name.dropLast(".weight".count))
            guard tensor.name.hasSuffix(".weight"), planned.contains(module) else {
                pending.append(.copy(tensor, from: checkpoint))
                continue
            }
            guard let packed = modules[module] else { throw GPTQError.missingResult(module: module) }
            layers.append(packed.layer)
            layerSeconds.append(packed.seconds)
            pending += packed.tensors
        }
        let report = GPTQQuantizationReport(method: method, quantizationConfig: config.json, scaleFitting: scaleFitting,
                                            provenance: provenance, layers: layers)
        let (files, bytes) = try PackedExport.write(
            plan, tensors: pending, extraFiles: ["quantize_config.json": PythonJSON.render(config.json, indent: 2) + "\n",
                                                 GPTQQuantizationReport.fileName: try PackedExport.reportText(report)],
            provenance: provenance, maxShardBytes: maxShardBytes, to: output, replace: replace)
        var summary = GPTQExportSummary(report: report, layerSeconds: layerSeconds, files: files, bytes: bytes,
                                        sourceBytes: checkpoint.tensors.reduce(0) { $0 + $1.byteCount },
                                        solverSeconds: layerSeconds.reduce(0, +), seconds: 0)
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return summary
    }
}

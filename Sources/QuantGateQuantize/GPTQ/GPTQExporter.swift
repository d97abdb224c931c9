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

/// What a GPTQ export checks before calibrating: the Linears to quantize, and the `config.json` text.
public struct GPTQExportPlan: Sendable {
    public let directory: ModelDirectory
    public let config: GPTQQuantizationConfig
    /// `model.layers.N.{q,k,v,o,gate,up,down}_proj` in checkpoint order.
    public let modules: [String]
    let configText: String
}

/// Source checkpoint → GPTQ model directory (AutoGPTQ/GPTQModel layout, ../shared/design/FORMATS.md §3):
/// per decoder-block Linear `qweight`, `qzeros`, `scales` (f16) and `g_idx`; everything else (embeddings,
/// norms, biases, `lm_head`) copied byte for byte; `config.json` with `quantization_config`, and
/// `quantize_config.json` for AutoGPTQ-era loaders.
public enum GPTQExporter {
    /// Checks the checkpoint (no quantization yet, every value finite, every block Linear packable with
    /// this grid) before any calibration.
    public static func plan(directory: ModelDirectory, config: GPTQQuantizationConfig,
                            progress: ((Int, Int, String) -> Void)? = nil) throws -> GPTQExportPlan {
        let checkpoint = directory.checkpoint
        let configText = try ModelConfigText.adding(quantizationConfig: config.json, toConfigOf: directory.path)
        let wanted = Set(blockLinears(directory.configuration))
        var modules: [String] = []
        for (position, tensor) in checkpoint.tensors.enumerated() where tensor.dtype.isFloatingPoint {
            progress?(position, checkpoint.tensors.count, "check \(tensor.name)")
            let values = try checkpoint.floats(named: tensor.name)
            _ = try values.withUnsafeBufferPointer { try FP8Quantizer.absoluteMaximum($0, tensor: tensor.name) }
            let module = String(tensor.name.dropLast(".weight".count))
            guard tensor.name.hasSuffix(".weight"), wanted.contains(module) else { continue }
            let (rows, columns) = (tensor.shape[0], tensor.shape[1])
            guard rows % config.codesPerWord == 0, columns % config.codesPerWord == 0 else {
                throw GPTQError.shapeNotPackable(module: module, shape: tensor.shape, bits: config.bits)
            }
            if let group = config.groupSize, group > columns {
                throw GPTQError.badGroupSize(module: module, groupSize: group, columns: columns)
            }
            modules.append(module)
        }
        return GPTQExportPlan(directory: directory, config: config, modules: modules, configText: configText)
    }

    /// Writes the directory from each module's quantized Linear.
    /// - Parameters:
    ///   - results: every planned module's result.
    ///   - provenance: `quantgate.*` entries for every weights file's `__metadata__` and the report.
    public static func write(_ plan: GPTQExportPlan, results: [String: GPTQLayerResult], method: String, scaleFitting: String,
                             provenance: [String: String], maxShardBytes: Int, to output: String, replace: Bool,
                             started: UInt64 = DispatchTime.now().uptimeNanoseconds) throws -> GPTQExportSummary {
        let checkpoint = plan.directory.checkpoint
        let config = plan.config
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
            guard let result = results[module] else { throw GPTQError.missingResult(module: module) }
            let linear = result.linear
            let (rows, columns, k) = (linear.rows, linear.columns, config.codesPerWord)
            layers.append(.init(module: module, shape: [rows, columns], loss: result.loss, damp: result.damp, deadColumns: result.deadColumns))
            layerSeconds.append(result.seconds)
            let qweight = GPTQPacking.packWeight(codes: linear.codes, rows: rows, columns: columns, bits: config.bits)
            let qzeros = GPTQPacking.packZeros(linear.zeros, groups: linear.groups, rows: rows, bits: config.bits,
                                               offset: config.checkpointFormat.zeroOffset)
            pending.append(PendingTensor(name: module + ".qweight", dtype: .int32, shape: [columns / k, rows], data: littleEndian(qweight)))
            pending.append(PendingTensor(name: module + ".qzeros", dtype: .int32, shape: [linear.groups, rows / k], data: littleEndian(qzeros)))
            pending.append(PendingTensor(name: module + ".scales", dtype: .float16, shape: [linear.groups, rows],
                                         data: Float32Conversion.encode(linear.scales, as: .float16)))
            pending.append(PendingTensor(name: module + ".g_idx", dtype: .int32, shape: [columns], data: littleEndian(linear.groupIndex)))
        }
        let report = GPTQQuantizationReport(method: method, quantizationConfig: config.json, scaleFitting: scaleFitting,
                                            provenance: provenance, layers: layers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let writer = CheckpointDirectoryWriter(output: output, replace: replace)
        try writer.write(tensors: pending, maxShardBytes: maxShardBytes, metadata: provenance.merging(["format": "pt"]) { a, _ in a },
                         config: plan.configText, companions: CheckpointDirectoryWriter.companionFiles(of: plan.directory.path),
                         extraFiles: ["quantize_config.json": PythonJSON.render(config.json, indent: 2) + "\n",
                                      GPTQQuantizationReport.fileName: String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"])
        var summary = GPTQExportSummary(report: report, layerSeconds: layerSeconds, files: [], bytes: 0,
                                        sourceBytes: checkpoint.tensors.reduce(0) { $0 + $1.byteCount },
                                        solverSeconds: layerSeconds.reduce(0, +), seconds: 0)
        (summary.files, summary.bytes) = writer.writtenFiles()
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return summary
    }

    /// The Linears GPTQ quantizes: every decoder block's q/k/v/o and gate/up/down, as module names.
    public static func blockLinears(_ c: LlamaConfiguration) -> [String] {
        (0..<c.layerCount).flatMap { layer in LinearInput.allCases.flatMap(\.linears).map { "model.layers.\(layer).\($0)" } }
    }

    private static func littleEndian(_ words: [Int32]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: words.count * 4)
        for (i, word) in words.enumerated() {
            let bits = UInt32(bitPattern: word)
            for b in 0..<4 { bytes[4 * i + b] = UInt8(truncatingIfNeeded: bits >> UInt32(8 * b)) }
        }
        return bytes
    }
}

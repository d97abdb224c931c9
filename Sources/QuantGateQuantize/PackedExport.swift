import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateSafetensors
import QuantGateTensors

/// What a GPTQ or AWQ export checks before calibrating: the Linears to quantize, and the `config.json` text.
public struct PackedExportPlan: Sendable {
    public let directory: ModelDirectory
    /// `model.layers.N.{q,k,v,o,gate,up,down}_proj` in checkpoint order.
    public let modules: [String]
    let configText: String
}

/// What the exports of packed-Linear model directories (GPTQ, AutoAWQ GEMM) share.
public enum PackedExport {
    /// The Linears GPTQ and AWQ quantize: every decoder block's q/k/v/o and gate/up/down, as module names.
    public static func blockLinears(_ c: LlamaConfiguration) -> [String] {
        (0..<c.layerCount).flatMap { layer in LinearInput.allCases.flatMap(\.linears).map { "model.layers.\(layer).\($0)" } }
    }

    /// A model directory with `quantizationConfig` as a loader sees it (``VLLMRules``): every block Linear with
    /// its `[out, in]` shape, and which of them are stored `quantized`.
    public static func loaderInput(quantizationConfig: JSONValue, configuration c: LlamaConfiguration, quantized: some Sequence<String>) -> LoaderInput {
        let weights = Set(blockLinears(c).map { $0 + ".weight" })
        let shapes = c.expectedTensors.filter { weights.contains($0.name) }.map { (String($0.name.dropLast(".weight".count)), $0.shape) }
        return LoaderInput(quantizationConfig: quantizationConfig, linears: Dictionary(uniqueKeysWithValues: shapes), quantized: Set(quantized))
    }

    /// Checks the checkpoint before any calibration: not quantized yet, every value finite, and every block
    /// Linear accepted by `check(module, shape)`.
    static func plan(directory: ModelDirectory, quantizationConfig: JSONValue, progress: ((Int, Int, String) -> Void)?,
                     check: (String, [Int]) throws -> Void) throws -> PackedExportPlan {
        let checkpoint = directory.checkpoint
        let configText = try ModelConfigText.adding(quantizationConfig: quantizationConfig, toConfigOf: directory.path)
        let wanted = Set(blockLinears(directory.configuration))
        var modules: [String] = []
        try FiniteScan.check(checkpoint, progress: progress)
        for tensor in checkpoint.tensors {
            let module = String(tensor.name.dropLast(".weight".count))
            guard tensor.name.hasSuffix(".weight"), wanted.contains(module) else { continue }
            try check(module, tensor.shape)
            modules.append(module)
        }
        return PackedExportPlan(directory: directory, modules: modules, configText: configText)
    }

    /// Writes the directory: `tensors` (in checkpoint order), `config.json`, the tokenizer and other companion
    /// files, and `extraFiles`, with `provenance` in every weights file's `__metadata__`.
    /// - Returns: the files written and their total bytes.
    static func write(_ plan: PackedExportPlan, tensors: [PendingTensor], extraFiles: [String: String], provenance: [String: String],
                      maxShardBytes: Int, to output: String, replace: Bool) throws -> (files: [String], bytes: Int) {
        let writer = CheckpointDirectoryWriter(output: output, replace: replace)
        try writer.write(tensors: tensors, maxShardBytes: maxShardBytes, metadata: provenance.merging(["format": "pt"]) { a, _ in a },
                         config: plan.configText, companions: CheckpointDirectoryWriter.companionFiles(of: plan.directory.path),
                         extraFiles: extraFiles)
        return writer.writtenFiles()
    }

    /// `report` as the pretty, key-sorted JSON text of a `quantization_report.json`.
    static func reportText<Report: Encodable>(_ report: Report) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    /// An int32 tensor's little-endian bytes.
    static func int32Tensor(_ name: String, shape: [Int], _ words: [Int32]) -> PendingTensor {
        var bytes = [UInt8](repeating: 0, count: words.count * 4)
        for (i, word) in words.enumerated() {
            let bits = UInt32(bitPattern: word)
            for b in 0..<4 { bytes[4 * i + b] = UInt8(truncatingIfNeeded: bits >> UInt32(8 * b)) }
        }
        return PendingTensor(name: name, dtype: .int32, shape: shape, data: bytes)
    }
}

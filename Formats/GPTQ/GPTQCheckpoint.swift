import Foundation
import QuantGateSafetensors
import QuantGateTensors

/// A GPTQ checkpoint read back from disk: every quantized Linear's `qweight`, `qzeros`, `scales` and
/// `g_idx`, dequantized as the loaders compute it (`scale[g_idx[i], o] · (q − zero)`), and every other
/// tensor as stored.
///
/// Opening validates the layout the config promises: `qweight` int32 `[in / k, out]`, `qzeros` int32
/// `[groups, out / k]`, `scales` f16 (or another float) `[groups, out]`, `g_idx` int32 `[in]` with every
/// entry a valid group (absent: `i / group_size`), no orphan tensors. Values are left to the structural checks.
public final class GPTQCheckpoint: PackedLinearCheckpoint {
    public let directory: String
    public let config: GPTQQuantizationConfig
    public let checkpoint: SafetensorsCheckpoint
    public let quantizedModules: [String]
    public let shapes: [String: [Int]]

    /// Whether `directory`'s `config.json` declares a GPTQ `quantization_config`.
    public static func isGPTQ(directory: String) -> Bool {
        PackedLinearLayout.declares(method: "gptq", directory: directory)
    }

    /// Opens and validates `directory`.
    /// - Throws: ``QuantizedCheckpointError`` or ``SafetensorsError`` naming the file and tensor at fault.
    public init(directory: String) throws {
        let (quantization, configPath) = try PackedLinearLayout.quantizationConfig(directory: directory)
        let config = try GPTQQuantizationConfig(json: quantization, file: configPath)
        let checkpoint = try SafetensorsCheckpoint(path: directory)
        (self.config, self.checkpoint, self.directory) = (config, checkpoint, directory)
        (quantizedModules, shapes) = try PackedLinearLayout.modules(of: checkpoint, directory: directory, companions: [".qzeros", ".scales", ".g_idx"]) {
            try Self.validate(module: $0, checkpoint: checkpoint, config: config, directory: directory)
        }
    }

    /// The layout checks of one module; returns its `[out, in]`.
    private static func validate(module: String, checkpoint: SafetensorsCheckpoint, config: GPTQQuantizationConfig,
                                 directory: String) throws -> [Int] {
        func fail(_ tensor: String, _ reason: String) -> QuantizedCheckpointError { .invalidTensor(file: directory, tensor: tensor, reason: reason) }
        func tensor(_ suffix: String) throws(QuantizedCheckpointError) -> TensorInfo {
            try PackedLinearLayout.tensor(module, suffix, in: checkpoint, directory: directory)
        }
        let k = config.codesPerWord
        let qweight = try tensor(".qweight")
        guard qweight.dtype == .int32, qweight.shape.count == 2 else {
            throw fail(qweight.name, "is \(qweight.dtype.rawValue) \(qweight.shape); expected I32 [in / \(k), out]")
        }
        let (inputs, outputs) = (qweight.shape[0] * k, qweight.shape[1])
        let groups = config.groupSize.map { (inputs + $0 - 1) / $0 } ?? 1
        let qzeros = try tensor(".qzeros")
        guard qzeros.dtype == .int32, qzeros.shape == [groups, outputs / k], outputs % k == 0 else {
            throw fail(qzeros.name, "is \(qzeros.dtype.rawValue) \(qzeros.shape); expected I32 [\(groups), \(outputs / k)]")
        }
        let scales = try tensor(".scales")
        guard scales.dtype.isFloatingPoint, scales.dtype.byteSize >= 2, scales.shape == [groups, outputs] else {
            throw fail(scales.name, "is \(scales.dtype.rawValue) \(scales.shape); expected F16 [\(groups), \(outputs)]")
        }
        if let gIdx = checkpoint.locate(module + ".g_idx")?.tensor {
            guard gIdx.dtype == .int32, gIdx.shape == [inputs] else {
                throw fail(gIdx.name, "is \(gIdx.dtype.rawValue) \(gIdx.shape); expected I32 [\(inputs)]")
            }
        }
        return [outputs, inputs]
    }

    /// Unpacks `module`.
    /// - Throws: when a tensor cannot be read, or a `g_idx` entry names no group.
    public func unpack(module: String) throws -> GroupQuantizedLinear {
        guard let shape = shapes[module] else {
            throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: module + ".qweight", reason: "is not in this checkpoint")
        }
        let (rows, columns, bits) = (shape[0], shape[1], config.bits)
        let groups = config.groupSize.map { (columns + $0 - 1) / $0 } ?? 1
        let codes = GPTQPacking.unpackWeight(try checkpoint.int32s(named: module + ".qweight"), rows: rows, columns: columns, bits: bits)
        let zeros = GPTQPacking.unpackZeros(try checkpoint.int32s(named: module + ".qzeros"), groups: groups, rows: rows, bits: bits,
                                            offset: config.checkpointFormat.zeroOffset)
        let scales = try checkpoint.floats(named: module + ".scales")
        var groupIndex: [Int32]
        if checkpoint.locate(module + ".g_idx") != nil {
            groupIndex = try checkpoint.int32s(named: module + ".g_idx")
            if let bad = groupIndex.firstIndex(where: { $0 < 0 || Int($0) >= groups }) {
                throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: module + ".g_idx",
                                                             reason: "entry \(bad) is \(groupIndex[bad]); groups are 0..<\(groups)")
            }
        } else {
            let group = config.groupSize ?? columns
            groupIndex = (0..<columns).map { Int32($0 / group) }
        }
        return GroupQuantizedLinear(rows: rows, columns: columns, codes: codes, scales: scales, zeros: zeros, groupIndex: groupIndex)
    }
}

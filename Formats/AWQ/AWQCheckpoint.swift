import Foundation
import QuantGateSafetensors
import QuantGateTensors

/// An AutoAWQ GEMM checkpoint read back from disk: every quantized Linear's `qweight`, `qzeros` and
/// `scales`, dequantized as the loaders compute it (`scale[i / g, o] · (q − zero)`), and every other tensor
/// (norms that absorbed AWQ's scales, embeddings, `lm_head`) as stored.
///
/// Opening validates the layout the config promises: `qweight` int32 `[in, out / 8]`, `qzeros` int32
/// `[in / g, out / 8]`, `scales` f16 (or another float) `[in / g, out]`, `in` a multiple of the group size,
/// no orphan tensors. Values are left to the structural checks.
public final class AWQCheckpoint: PackedLinearCheckpoint {
    public let directory: String
    public let config: AWQQuantizationConfig
    public let checkpoint: SafetensorsCheckpoint
    public let quantizedModules: [String]
    public let shapes: [String: [Int]]

    /// Whether `directory`'s `config.json` declares an AWQ `quantization_config`.
    public static func isAWQ(directory: String) -> Bool {
        PackedLinearLayout.declares(method: "awq", directory: directory)
    }

    /// Opens and validates `directory`.
    /// - Throws: ``QuantizedCheckpointError`` or ``SafetensorsError`` naming the file and tensor at fault.
    public init(directory: String) throws {
        let (quantization, configPath) = try PackedLinearLayout.quantizationConfig(directory: directory)
        let config = try AWQQuantizationConfig(json: quantization, file: configPath)
        let checkpoint = try SafetensorsCheckpoint(path: directory)
        (self.config, self.checkpoint, self.directory) = (config, checkpoint, directory)
        (quantizedModules, shapes) = try PackedLinearLayout.modules(of: checkpoint, directory: directory, companions: [".qzeros", ".scales"]) {
            try Self.validate(module: $0, checkpoint: checkpoint, groupSize: config.groupSize, directory: directory)
        }
    }

    /// The layout checks of one module; returns its `[out, in]`.
    private static func validate(module: String, checkpoint: SafetensorsCheckpoint, groupSize g: Int, directory: String) throws -> [Int] {
        func fail(_ tensor: String, _ reason: String) -> QuantizedCheckpointError { .invalidTensor(file: directory, tensor: tensor, reason: reason) }
        let k = AWQQuantizationConfig.codesPerWord
        let qweight = try PackedLinearLayout.tensor(module, ".qweight", in: checkpoint, directory: directory)
        guard qweight.dtype == .int32, qweight.shape.count == 2 else {
            throw fail(qweight.name, "is \(qweight.dtype.rawValue) \(qweight.shape); expected I32 [in, out / \(k)]")
        }
        let (inputs, outputs) = (qweight.shape[0], qweight.shape[1] * k)
        guard inputs % g == 0 else { throw fail(qweight.name, "has \(inputs) inputs, not a multiple of group_size \(g)") }
        let qzeros = try PackedLinearLayout.tensor(module, ".qzeros", in: checkpoint, directory: directory)
        guard qzeros.dtype == .int32, qzeros.shape == [inputs / g, outputs / k] else {
            throw fail(qzeros.name, "is \(qzeros.dtype.rawValue) \(qzeros.shape); expected I32 [\(inputs / g), \(outputs / k)]")
        }
        let scales = try PackedLinearLayout.tensor(module, ".scales", in: checkpoint, directory: directory)
        guard scales.dtype.isFloatingPoint, scales.dtype.byteSize >= 2, scales.shape == [inputs / g, outputs] else {
            throw fail(scales.name, "is \(scales.dtype.rawValue) \(scales.shape); expected F16 [\(inputs / g), \(outputs)]")
        }
        return [outputs, inputs]
    }

    /// Unpacks `module`.
    /// - Throws: when a tensor cannot be read.
    public func unpack(module: String) throws -> GroupQuantizedLinear {
        guard let shape = shapes[module] else {
            throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: module + ".qweight", reason: "is not in this checkpoint")
        }
        let (rows, columns, g) = (shape[0], shape[1], config.groupSize)
        return GroupQuantizedLinear(
            rows: rows, columns: columns,
            codes: AWQPacking.unpackWeight(try checkpoint.int32s(named: module + ".qweight"), rows: rows, columns: columns),
            scales: try checkpoint.floats(named: module + ".scales"),
            zeros: AWQPacking.unpackZeros(try checkpoint.int32s(named: module + ".qzeros"), groups: columns / g, rows: rows),
            groupIndex: (0..<columns).map { Int32($0 / g) })
    }
}

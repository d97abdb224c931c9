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
public final class GPTQCheckpoint: Sendable {
    public let directory: String
    public let config: GPTQQuantizationConfig
    public let checkpoint: SafetensorsCheckpoint
    /// Quantized module names (tensor names without `.qweight`), in checkpoint order.
    public let quantizedModules: [String]
    /// `[out, in]` of each quantized module.
    public let shapes: [String: [Int]]

    /// Whether `directory`'s `config.json` declares a GPTQ `quantization_config`.
    public static func isGPTQ(directory: String) -> Bool {
        (try? ModelConfigText.object(directory: directory))?["quantization_config"]?["quant_method"]?.string == "gptq"
    }

    /// Opens and validates `directory`.
    /// - Throws: ``QuantizedCheckpointError`` or ``SafetensorsError`` naming the file and tensor at fault.
    public init(directory: String) throws {
        let configPath = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        guard let quantization = try ModelConfigText.object(directory: directory)["quantization_config"] else {
            throw QuantizedCheckpointError.invalidConfig(file: configPath, field: "", reason: "config.json has no quantization_config")
        }
        config = try GPTQQuantizationConfig(json: quantization, file: configPath)
        checkpoint = try SafetensorsCheckpoint(path: directory)
        self.directory = directory
        let modules = checkpoint.tensors.filter { $0.name.hasSuffix(".qweight") }.map { String($0.name.dropLast(".qweight".count)) }
        quantizedModules = modules
        var shapes: [String: [Int]] = [:]
        for module in modules { shapes[module] = try Self.validate(module: module, checkpoint: checkpoint, config: config, directory: directory) }
        self.shapes = shapes
        for tensor in checkpoint.tensors {
            let suffix = [".qzeros", ".scales", ".g_idx"].first { tensor.name.hasSuffix($0) }
            if let suffix, shapes[String(tensor.name.dropLast(suffix.count))] == nil {
                throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: tensor.name, reason: "belongs to no qweight")
            }
        }
    }

    /// The layout checks of one module; returns its `[out, in]`.
    private static func validate(module: String, checkpoint: SafetensorsCheckpoint, config: GPTQQuantizationConfig,
                                 directory: String) throws -> [Int] {
        func fail(_ tensor: String, _ reason: String) -> QuantizedCheckpointError { .invalidTensor(file: directory, tensor: tensor, reason: reason) }
        func tensor(_ suffix: String) throws(QuantizedCheckpointError) -> TensorInfo {
            guard let info = checkpoint.locate(module + suffix)?.tensor else { throw fail(module + suffix, "is missing") }
            return info
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
        if checkpoint.locate(module + ".weight") != nil { throw fail(module + ".weight", "is present beside \(qweight.name)") }
        return [outputs, inputs]
    }

    /// The `__metadata__` of the first weights file.
    public var metadata: [String: String] { checkpoint.files.first?.metadata ?? [:] }

    /// Whether `name` (`X.weight`) is the weight of a quantized module.
    public func isQuantized(weight name: String) -> Bool {
        name.hasSuffix(".weight") && shapes[String(name.dropLast(".weight".count))] != nil
    }

    /// Unpacks `module`.
    /// - Throws: when a tensor cannot be read, or a `g_idx` entry names no group.
    public func unpack(module: String) throws -> GPTQQuantizedLinear {
        guard let shape = shapes[module] else {
            throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: module + ".qweight", reason: "is not in this checkpoint")
        }
        let (rows, columns, bits) = (shape[0], shape[1], config.bits)
        let groups = config.groupSize.map { (columns + $0 - 1) / $0 } ?? 1
        let codes = GPTQPacking.unpackWeight(try int32(module + ".qweight"), rows: rows, columns: columns, bits: bits)
        let zeros = GPTQPacking.unpackZeros(try int32(module + ".qzeros"), groups: groups, rows: rows, bits: bits,
                                            offset: config.checkpointFormat.zeroOffset)
        let scales = try checkpoint.floats(named: module + ".scales")
        var groupIndex: [Int32]
        if checkpoint.locate(module + ".g_idx") != nil {
            groupIndex = try int32(module + ".g_idx")
            if let bad = groupIndex.firstIndex(where: { $0 < 0 || Int($0) >= groups }) {
                throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: module + ".g_idx",
                                                             reason: "entry \(bad) is \(groupIndex[bad]); groups are 0..<\(groups)")
            }
        } else {
            let group = config.groupSize ?? columns
            groupIndex = (0..<columns).map { Int32($0 / group) }
        }
        return GPTQQuantizedLinear(rows: rows, columns: columns, codes: codes, scales: scales, zeros: zeros, groupIndex: groupIndex)
    }

    /// Tensor `name` in f32: `X.weight` of a quantized module dequantized, any other tensor converted from its dtype.
    public func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard isQuantized(weight: name) else {
            guard let (tensor, file) = checkpoint.locate(name) else { throw SafetensorsError.tensorNotFound(name: name, location: directory) }
            return (tensor.shape, try file.floats(named: name))
        }
        let m = try unpack(module: String(name.dropLast(".weight".count)))
        return ([m.rows, m.columns], m.dequantized())
    }

    private func int32(_ name: String) throws -> [Int32] {
        guard let (tensor, file) = checkpoint.locate(name) else { throw SafetensorsError.tensorNotFound(name: name, location: directory) }
        return file.withBytes(of: tensor) { bytes in
            (0..<(bytes.count / 4)).map { i in
                Int32(bitPattern: UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24)
            }
        }
    }
}

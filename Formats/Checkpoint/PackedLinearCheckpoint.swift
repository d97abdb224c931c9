import Foundation
import QuantGateSafetensors
import QuantGateTensors

/// A model directory whose block Linears are stored as packed integer codes (`X.qweight` with its
/// companions) and read back as ``GroupQuantizedLinear``s: GPTQ and AutoAWQ GEMM checkpoints. Everything
/// not quantized is read as stored.
public protocol PackedLinearCheckpoint: Sendable {
    var directory: String { get }
    var checkpoint: SafetensorsCheckpoint { get }
    /// Quantized module names (tensor names without `.qweight`), in checkpoint order.
    var quantizedModules: [String] { get }
    /// `[out, in]` of each quantized module.
    var shapes: [String: [Int]] { get }
    /// The codes, scales and zeros of `module`.
    func unpack(module: String) throws -> GroupQuantizedLinear
}

extension PackedLinearCheckpoint {
    /// The `__metadata__` of the first weights file.
    public var metadata: [String: String] { checkpoint.files.first?.metadata ?? [:] }

    /// Whether `name` (`X.weight`) is the weight of a quantized module.
    public func isQuantized(weight name: String) -> Bool {
        name.hasSuffix(".weight") && shapes[String(name.dropLast(".weight".count))] != nil
    }

    /// Tensor `name` in f32: `X.weight` of a quantized module dequantized as loaders compute it, any other
    /// tensor converted from its dtype.
    public func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard isQuantized(weight: name) else {
            guard let (tensor, file) = checkpoint.locate(name) else { throw SafetensorsError.tensorNotFound(name: name, location: directory) }
            return (tensor.shape, try file.floats(named: name))
        }
        let m = try unpack(module: String(name.dropLast(".weight".count)))
        return ([m.rows, m.columns], m.dequantized())
    }
}

/// Opening steps every ``PackedLinearCheckpoint`` shares.
public enum PackedLinearLayout {
    /// `directory`'s `quantization_config` and the path of its `config.json`.
    /// - Throws: ``QuantizedCheckpointError`` when the file is unreadable or declares no quantization.
    public static func quantizationConfig(directory: String) throws -> (json: JSONValue, file: String) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        guard let quantization = try ModelConfigText.object(directory: directory)["quantization_config"] else {
            throw QuantizedCheckpointError.invalidConfig(file: path, field: "", reason: "config.json has no quantization_config")
        }
        return (quantization, path)
    }

    /// Whether `directory`'s `config.json` declares `quantization_config.quant_method` `method` (in any case,
    /// as the loaders compare it) or a variant of it (`awq_marlin`), which the format's reader then refuses
    /// naming `quant_method`, rather than the directory passing for an unquantized model.
    public static func declares(method: String, directory: String) -> Bool {
        guard let declared = (try? ModelConfigText.object(directory: directory))?["quantization_config"]?["quant_method"]?.string?.lowercased() else {
            return false
        }
        return declared == method || declared.hasPrefix(method + "_") || declared.hasPrefix(method + "-")
    }

    /// The quantized modules of `checkpoint` (one per `.qweight`) with the `[out, in]` that `validate` finds for
    /// each, after checking that every tensor ending in one of `companions` belongs to a module.
    /// - Throws: what `validate` throws, or ``QuantizedCheckpointError/invalidTensor(file:tensor:reason:)`` for an orphan.
    public static func modules(of checkpoint: SafetensorsCheckpoint, directory: String, companions: [String],
                               validate: (String) throws -> [Int]) throws -> (modules: [String], shapes: [String: [Int]]) {
        let modules = checkpoint.tensors.filter { $0.name.hasSuffix(".qweight") }.map { String($0.name.dropLast(".qweight".count)) }
        var shapes: [String: [Int]] = [:]
        for module in modules {
            shapes[module] = try validate(module)
            if checkpoint.locate(module + ".weight") != nil {
                throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: module + ".weight", reason: "is present beside \(module).qweight")
            }
        }
        for tensor in checkpoint.tensors {
            if let suffix = companions.first(where: { tensor.name.hasSuffix($0) }), shapes[String(tensor.name.dropLast(suffix.count))] == nil {
                throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: tensor.name, reason: "belongs to no qweight")
            }
        }
        return (modules, shapes)
    }

    /// The tensor `module + suffix`'s header entry.
    /// - Throws: ``QuantizedCheckpointError/invalidTensor(file:tensor:reason:)`` when it is missing.
    public static func tensor(_ module: String, _ suffix: String, in checkpoint: SafetensorsCheckpoint, directory: String) throws(QuantizedCheckpointError) -> TensorInfo {
        guard let info = checkpoint.locate(module + suffix)?.tensor else {
            throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: module + suffix, reason: "is missing")
        }
        return info
    }
}

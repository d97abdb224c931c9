import CKernels
import Foundation
import QuantGateSafetensors
import QuantGateTensors

/// An FP8 compressed-tensors checkpoint read back from disk: every quantized Linear's E4M3 codes,
/// `weight_scale` and (static scheme) `input_scale`, and every other tensor as stored.
///
/// Opening validates the layout the config promises: a quantized module's `weight` is `F8_E4M3`
/// `[out, in]`, its `weight_scale` is `[out, 1]` (channel) or `[1]` (tensor) in a float dtype, and
/// its `input_scale` is `[1]` exactly when activations are static; a module in `ignore` holds no FP8
/// tensor. Values (a NaN code, a zero scale) are left to the structural checks, which name them.
public final class FP8Checkpoint: Sendable {
    public let directory: String
    public let config: FP8QuantizationConfig
    public let checkpoint: SafetensorsCheckpoint
    /// Quantized module names (tensor names without `.weight`), in checkpoint order.
    public let quantizedModules: [String]

    /// Whether `directory`'s `config.json` declares a compressed-tensors `quantization_config` (any format:
    /// the evaluator then says which formats it reads).
    public static func isCompressedTensors(directory: String) -> Bool {
        guard let object = try? ModelConfigText.object(directory: directory) else { return false }
        return object["quantization_config"]?["quant_method"]?.string == "compressed-tensors"
    }

    /// Whether `directory` declares the FP8 format this reader handles (`float-quantized`).
    public static func isFP8(directory: String) -> Bool {
        isCompressedTensors(directory: directory)
            && (try? ModelConfigText.object(directory: directory))?["quantization_config"]?["format"]?.string == "float-quantized"
    }

    /// Opens and validates `directory`.
    /// - Throws: ``QuantizedCheckpointError`` or ``SafetensorsError`` naming the file and tensor at fault.
    public init(directory: String) throws {
        let configPath = URL(fileURLWithPath: directory).appendingPathComponent("config.json").path
        guard let quantization = try ModelConfigText.object(directory: directory)["quantization_config"] else {
            throw QuantizedCheckpointError.invalidConfig(file: configPath, field: "", reason: "config.json has no quantization_config")
        }
        config = try FP8QuantizationConfig(json: quantization, file: configPath)
        checkpoint = try SafetensorsCheckpoint(path: directory)
        self.directory = directory
        var modules: [String] = []
        for tensor in checkpoint.tensors where tensor.dtype == .float8E4M3 {
            guard tensor.name.hasSuffix(".weight") else {
                throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: tensor.name, reason: "is F8_E4M3 but is not a Linear weight")
            }
            modules.append(String(tensor.name.dropLast(".weight".count)))
        }
        quantizedModules = modules
        for module in modules { try validate(module: module) }
        for tensor in checkpoint.tensors where tensor.name.hasSuffix(".weight_scale") || tensor.name.hasSuffix(".input_scale") {
            let module = String(tensor.name[..<tensor.name.lastIndex(of: ".")!])
            guard checkpoint.locate(module + ".weight")?.tensor.dtype == .float8E4M3 else {
                throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: tensor.name, reason: "belongs to no FP8 weight")
            }
        }
    }

    private func validate(module: String) throws(QuantizedCheckpointError) {
        func fail(_ tensor: String, _ reason: String) -> QuantizedCheckpointError { .invalidTensor(file: directory, tensor: tensor, reason: reason) }
        let weight = checkpoint.locate(module + ".weight")!.tensor
        guard weight.shape.count == 2 else { throw fail(weight.name, "has shape \(weight.shape); an FP8 Linear weight is [out, in]") }
        guard !config.ignores(module: module) else { throw fail(weight.name, "is FP8, but quantization_config.ignore lists \(module)") }
        let scaleName = module + ".weight_scale"
        guard let scale = checkpoint.locate(scaleName)?.tensor else { throw fail(scaleName, "is missing") }
        let expected = config.scheme.weights == .channel ? [weight.shape[0], 1] : [1]
        guard scale.dtype.isFloatingPoint, scale.dtype.byteSize >= 2 else { throw fail(scaleName, "has dtype \(scale.dtype.rawValue)") }
        guard scale.shape == expected || (config.scheme.weights == .tensor && scale.shape.isEmpty) else {
            throw fail(scaleName, "has shape \(scale.shape); \(config.scheme.weights.rawValue) scales need \(expected)")
        }
        let inputName = module + ".input_scale"
        let input = checkpoint.locate(inputName)?.tensor
        switch config.scheme.activations {
        case .static:
            guard let input else { throw fail(inputName, "is missing (static activation scales)") }
            guard input.dtype.isFloatingPoint, input.dtype.byteSize >= 2, input.elementCount == 1, input.shape.count <= 1 else {
                throw fail(inputName, "has dtype \(input.dtype.rawValue) and shape \(input.shape); expected one float")
            }
        case .dynamic:
            guard input == nil else { throw fail(inputName, "is present, but the activations are dynamic") }
        }
    }

    /// The `__metadata__` of the first weights file.
    public var metadata: [String: String] { checkpoint.files.first?.metadata ?? [:] }

    /// Whether `name` is the weight of a quantized module.
    public func isQuantized(weight name: String) -> Bool {
        checkpoint.locate(name)?.tensor.dtype == .float8E4M3 && name.hasSuffix(".weight")
    }

    /// The E4M3 codes of quantized weight `name`, row-major `[out, in]`.
    public func codes(ofWeight name: String) throws -> (shape: [Int], codes: [UInt8]) {
        guard let (tensor, file) = checkpoint.locate(name), tensor.dtype == .float8E4M3 else {
            throw QuantizedCheckpointError.invalidTensor(file: directory, tensor: name, reason: "is not an FP8 weight of this checkpoint")
        }
        return (tensor.shape, file.withBytes(of: tensor) { Array($0) })
    }

    /// The weight scales of module `module` (one per row, or one), as f32.
    public func weightScales(module: String) throws -> [Float] {
        try checkpoint.floats(named: module + ".weight_scale")
    }

    /// The static input scale of module `module`, or nil with dynamic activations.
    public func inputScale(module: String) throws -> Float? {
        guard config.scheme.activations == .static else { return nil }
        return try checkpoint.floats(named: module + ".input_scale").first
    }

    /// Tensor `name` in f32: an FP8 weight dequantized as `code · scale` (what compressed-tensors'
    /// decompressor and the runtime compute), any other tensor converted from its stored dtype.
    public func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard isQuantized(weight: name) else {
            guard let (tensor, file) = checkpoint.locate(name) else {
                throw SafetensorsError.tensorNotFound(name: name, location: directory)
            }
            return (tensor.shape, try file.floats(named: name))
        }
        let (shape, codes) = try codes(ofWeight: name)
        let scales = try weightScales(module: String(name.dropLast(".weight".count)))
        let (rows, columns) = (shape[0], shape[1])
        var values = [Float](repeating: 0, count: rows * columns)
        codes.withUnsafeBufferPointer { c in
            values.withUnsafeMutableBufferPointer { v in
                for row in 0..<rows {
                    let scale = scales.count == 1 ? scales[0] : scales[row]
                    qg_fp8_e4m3_dequantize(c.baseAddress! + row * columns, scale, v.baseAddress! + row * columns, Int64(columns))
                }
            }
        }
        return (shape, values)
    }
}

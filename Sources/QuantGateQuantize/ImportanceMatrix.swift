import Foundation
import QuantGateCalibration
import QuantGateFormats
import QuantGateModel

/// Per-column importance of each weight matrix, keyed by GGUF tensor name: the mean of x² of the
/// Linear's input over the calibration tokens — what llama.cpp's importance matrix holds
/// (`in_sum2 / counts`) and what its quantizers weight the rounding error by.
public struct ImportanceMatrix: Equatable, Sendable {
    public var values: [String: [Float]]
    /// Calibration tokens behind the values (`counts` in llama.cpp's file).
    public var tokens: Int
    /// Where the values came from (data hash or dataset names), recorded in the GGUF provenance.
    public var source: String

    public init(values: [String: [Float]], tokens: Int, source: String) {
        self.values = values
        self.tokens = tokens
        self.source = source
    }

    /// From a verified calibration statistics file: every Linear's `mean_sq`.
    public init(statistics file: StatisticsFile, configuration: LlamaConfiguration) throws {
        var values: [String: [Float]] = [:]
        var tokens = 0
        for layer in 0..<configuration.layerCount {
            let block = try file.block(layer)
            for input in block.inputs {
                tokens = input.statistics.tokens
                for stem in input.point.linears {
                    if let name = GGUFTensorNames.gguf("model.layers.\(layer).\(stem).weight") {
                        values[name] = input.statistics.meanSquare
                    }
                }
            }
        }
        self.init(values: values, tokens: tokens, source: "calibration data \(file.key.dataHash.prefix(16))")
    }

    /// Reads llama.cpp's imatrix file (the GGUF form `llama-imatrix` writes: `NAME.in_sum2` and
    /// `NAME.counts` per tensor).
    /// - Throws: ``GGUFError`` naming the tensor at fault.
    public init(llamaCppFile path: String) throws {
        let file = try GGUFFile(path: path)
        var values: [String: [Float]] = [:]
        var tokens = 0
        for info in file.tensors where info.name.hasSuffix(".in_sum2") {
            let name = String(info.name.dropLast(".in_sum2".count))
            let (_, sums) = try file.floats(named: info.name)
            let (countInfo, counts) = try file.floats(named: name + ".counts")
            guard info.shape.count <= 2, countInfo.elementCount == (info.shape.count == 2 ? info.shape[1] : 1),
                  let count = counts.first, count > 0 else {
                throw GGUFError.malformed(file: path, field: name + ".counts", reason: "does not match \(info.name) or is zero")
            }
            // One matrix per tensor for dense models: mean of x² per column.
            values[name] = Array(sums.prefix(info.shape[0])).map { $0 / count }
            tokens = max(tokens, Int(count))
        }
        guard !values.isEmpty else {
            throw GGUFError.malformed(file: path, field: "tensors", reason: "holds no '*.in_sum2' tensors (not an imatrix file)")
        }
        let datasets = file["imatrix.datasets"]?.array?.compactMap(\.string).joined(separator: ", ")
        self.init(values: values, tokens: tokens, source: "imatrix \(datasets ?? URL(fileURLWithPath: path).lastPathComponent)")
    }

    /// Writes llama.cpp's GGUF imatrix form: `NAME.in_sum2` (F32, [columns]) = mean x² · tokens and
    /// `NAME.counts` (F32, [1]) = tokens, per tensor, in name order, with the three `imatrix.*` keys
    /// llama-quantize requires. An existing file at `path` is an error.
    public func writeLlamaCppFile(to path: String, datasets: [String], chunkSize: Int) throws {
        let names = values.keys.sorted()
        var tensors: [GGUFPendingTensor] = []
        for name in names {
            let sums = values[name]!.map { $0 * Float(tokens) }
            tensors.append(GGUFPendingTensor(name: name + ".in_sum2", shape: [sums.count], type: .f32) { Self.bytes(sums) })
            tensors.append(GGUFPendingTensor(name: name + ".counts", shape: [1], type: .f32) { Self.bytes([Float(tokens)]) })
        }
        let metadata: [(key: String, value: GGUFValue)] = [
            ("general.type", .string("imatrix")),
            ("imatrix.datasets", .strings(datasets)),
            ("imatrix.chunk_count", .uint32(UInt32(tokens / max(chunkSize, 1)))),
            ("imatrix.chunk_size", .uint32(UInt32(chunkSize))),
        ]
        try GGUFWriter.write(to: path, metadata: metadata, tensors: tensors)
    }

    static func bytes(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }
}

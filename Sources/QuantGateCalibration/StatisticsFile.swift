import QuantGateHDF5
import Crypto
import Foundation
import QuantGateModel

/// A statistics file opened for reading, after checking that it is one of ours, that its layout
/// matches the model, and that its content checksum holds. Never trusted otherwise.
public final class StatisticsFile {
    public let path: String
    /// What the file was computed from.
    public let key: CalibrationKey
    private let file: HDF5File
    private let configuration: LlamaConfiguration

    /// Opens and verifies `path` for a model of `configuration`.
    /// - Throws: ``HDF5Error`` naming what is wrong: not HDF5, truncated, a foreign file, another
    ///   format version or model shape, a missing dataset, or a checksum mismatch.
    public convenience init(path: String, configuration: LlamaConfiguration) throws(HDF5Error) {
        try self.init(path: path, configuration: configuration, verifyingContent: true)
    }

    /// `verifyingContent: false` skips the checksum pass, for a file whose content was just verified
    /// under another name (the writer's temporary) and renamed.
    init(path: String, configuration: LlamaConfiguration, verifyingContent: Bool) throws(HDF5Error) {
        self.path = path
        self.configuration = configuration
        let file = try HDF5File.open(path)
        self.file = file
        let (key, checksum) = try Self.readKey(file, path: path, configuration: configuration)
        self.key = key
        if verifyingContent { try verifyChecksum(expected: checksum) }
    }

    /// Checks the root attributes and returns the key and the recorded checksum.
    private static func readKey(_ file: HDF5File, path: String, configuration: LlamaConfiguration) throws(HDF5Error)
        -> (CalibrationKey, String)
    {
        func fail(_ reason: String) -> HDF5Error { HDF5Error(path: path, object: "", reason: reason) }
        func string(_ name: String) throws(HDF5Error) -> String {
            guard case .string(let value)? = try file.attribute(name) else { throw fail("has no string attribute '\(name)'") }
            return value
        }
        func integer(_ name: String) throws(HDF5Error) -> Int64 {
            guard case .integer(let value)? = try file.attribute(name) else { throw fail("has no integer attribute '\(name)'") }
            return value
        }
        guard case .string(StatisticsLayout.format)? = try file.attribute("format") else {
            throw fail("is not a QuantGate calibration file (attribute 'format' is not '\(StatisticsLayout.format)')")
        }
        let version = try integer("format_version")
        guard version == StatisticsLayout.formatVersion else {
            throw fail("has format version \(version); this QuantGate reads version \(StatisticsLayout.formatVersion)")
        }
        let shape = (try integer("layers"), try integer("hidden_size"), try integer("intermediate_size"))
        guard shape == (Int64(configuration.layerCount), Int64(configuration.hiddenSize), Int64(configuration.intermediateSize)) else {
            throw fail("was computed for another model shape (layers, hidden, intermediate = \(shape))")
        }
        let key = CalibrationKey(
            modelHash: try string("model_hash"), dataHash: try string("data_hash"),
            sequences: Int(try integer("sequences")), sequenceLength: Int(try integer("sequence_length")),
            seed: UInt64(bitPattern: try integer("seed")), hessian: try integer("hessian") != 0,
            mode: try string("mode"), toolVersion: try string("tool_version"))
        return (key, try string("content_sha256"))
    }

    /// The windows the statistics were measured on.
    public func windows() throws(HDF5Error) -> [[Int]] {
        let (shape, values) = try file.readIntegers(StatisticsLayout.tokens)
        guard shape.count == 2 else { throw HDF5Error(path: path, object: StatisticsLayout.tokens, reason: "is not 2-D") }
        return (0..<shape[0]).map { row in values[(row * shape[1])..<((row + 1) * shape[1])].map { Int($0) } }
    }

    /// Block `layer`'s statistics.
    public func block(_ layer: Int) throws(HDF5Error) -> BlockStatistics {
        precondition(layer >= 0 && layer < configuration.layerCount)
        var inputs: [LinearInputStatistics] = []
        for point in LinearInput.allCases {
            let statistics = try group(StatisticsLayout.group(layer: layer, point), width: point.width(configuration),
                                       withHessian: key.hessian)
            inputs.append(LinearInputStatistics(point: point, statistics: statistics))
        }
        let output = try group(StatisticsLayout.output(layer: layer), width: configuration.hiddenSize, withHessian: false)
        return BlockStatistics(layer: layer, inputs: inputs, output: output)
    }

    private func group(_ name: String, width: Int, withHessian: Bool) throws(HDF5Error) -> ChannelStatistics {
        var vectors: [[Float]] = []
        for dataset in StatisticsLayout.channelDatasets {
            vectors.append(try floats("\(name)/\(dataset)", shape: [width]))
        }
        let hessian = withHessian ? try floats("\(name)/\(StatisticsLayout.hessian)", shape: [width, width]) : nil
        guard case .integer(let tokens)? = try file.attribute("tokens", on: name) else {
            throw HDF5Error(path: path, object: name, reason: "has no integer attribute 'tokens'")
        }
        return ChannelStatistics(tokens: Int(tokens), meanAbs: vectors[0], maxAbs: vectors[1], meanSquare: vectors[2], hessian: hessian)
    }

    private func floats(_ name: String, shape: [Int]) throws(HDF5Error) -> [Float] {
        let (actual, values) = try file.readFloats(name)
        guard actual == shape else { throw HDF5Error(path: path, object: name, reason: "has shape \(actual), expected \(shape)") }
        return values
    }

    /// Recomputes the content checksum over every dataset in the writer's order.
    private func verifyChecksum(expected: String) throws(HDF5Error) {
        var hasher = SHA256()
        let (shape, tokens) = try file.readIntegers(StatisticsLayout.tokens)
        guard shape.count == 2 else { throw HDF5Error(path: path, object: StatisticsLayout.tokens, reason: "is not 2-D") }
        StatisticsChecksum.add(StatisticsLayout.tokens, tokens.map { UInt32(truncatingIfNeeded: $0).littleEndian }, to: &hasher)
        for layer in 0..<configuration.layerCount {
            var groups = LinearInput.allCases.map { (StatisticsLayout.group(layer: layer, $0), $0.width(configuration), key.hessian) }
            groups.append((StatisticsLayout.output(layer: layer), configuration.hiddenSize, false))
            for (group, width, withHessian) in groups {
                for dataset in StatisticsLayout.channelDatasets {
                    let name = "\(group)/\(dataset)"
                    StatisticsChecksum.add(name, try floats(name, shape: [width]).map { $0.bitPattern.littleEndian }, to: &hasher)
                }
                if withHessian {
                    let name = "\(group)/\(StatisticsLayout.hessian)"
                    StatisticsChecksum.add(name, try floats(name, shape: [width, width]).map { $0.bitPattern.littleEndian }, to: &hasher)
                }
            }
        }
        let actual = hasher.hexDigest()
        guard actual == expected else {
            throw HDF5Error(path: path, object: "", reason: "content checksum does not match (the file was altered or damaged)")
        }
    }
}

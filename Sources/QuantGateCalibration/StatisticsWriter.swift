import QuantGateHDF5
import Crypto
import Foundation
import QuantGateModel
import QuantGateTensors

/// Writes a statistics file block by block, as the calibrator yields them; ``finish()`` records the
/// content checksum last, so a file without it is never taken for complete. Callers write to a temporary
/// path and rename it (``CalibrationCache/obtain(path:key:set:calibrator:known:recompute:replace:progress:)``).
public final class StatisticsWriter {
    public let path: String
    private let file: HDF5File
    private let configuration: LlamaConfiguration
    private let hessian: Bool
    private var checksum = SHA256()
    private var nextLayer = 0

    /// Creates `path` with the run's attributes and windows.
    /// - Throws: ``HDF5Error`` when the file cannot be created or written.
    public init(path: String, key: CalibrationKey, set: CalibrationSet, configuration: LlamaConfiguration) throws {
        self.path = path
        self.configuration = configuration
        hessian = key.hessian
        file = try HDF5File.create(path)
        do {
            let attributes: [(String, HDF5Attribute)] = [
                ("format", .string(StatisticsLayout.format)),
                ("format_version", .integer(StatisticsLayout.formatVersion)),
                ("tool_version", .string(key.toolVersion)),
                ("model_hash", .string(key.modelHash)),
                ("data_hash", .string(key.dataHash)),
                ("data", .string(set.sources.joined(separator: "; "))),
                ("sequences", .integer(Int64(key.sequences))),
                ("sequence_length", .integer(Int64(key.sequenceLength))),
                ("seed", .integer(Int64(bitPattern: key.seed))),
                ("windows", .integer(Int64(set.windows.count))),
                ("tokens", .integer(Int64(set.tokenCount))),
                ("hessian", .integer(key.hessian ? 1 : 0)),
                ("mode", .string(key.mode)),
                ("layers", .integer(Int64(configuration.layerCount))),
                ("hidden_size", .integer(Int64(configuration.hiddenSize))),
                ("intermediate_size", .integer(Int64(configuration.intermediateSize))),
            ]
            for (name, value) in attributes { try file.setAttribute(name, value) }
            let width = set.windows[0].count
            precondition(set.windows.allSatisfy { $0.count == width }, "calibration windows of unequal length")
            try writeDataset(StatisticsLayout.tokens, int32s: set.windows.flatMap { $0.map { Int32($0) } },
                             shape: [set.windows.count, width])
        } catch {
            file.close()
            throw error
        }
    }

    deinit {
        file.close()
    }

    /// Appends the next block's statistics (blocks arrive in order).
    public func append(_ block: BlockStatistics) throws {
        precondition(block.layer == nextLayer, "statistics of block \(block.layer) arrived, expected \(nextLayer)")
        for input in block.inputs {
            let group = StatisticsLayout.group(layer: block.layer, input.point)
            try writeGroup(group, input.statistics, withHessian: hessian)
            try file.setAttribute("input", .string(StatisticsLayout.inputName(input.point)), on: group)
            for stem in input.point.linears.dropFirst() {
                try file.link(StatisticsLayout.linearGroup(layer: block.layer, stem), to: group)
            }
        }
        try writeGroup(StatisticsLayout.output(layer: block.layer), block.output, withHessian: false)
        nextLayer += 1
    }

    /// Records the checksum and closes the file.
    /// - Throws: ``HDF5Error`` when the last writes or the flush fail.
    public func finish() throws {
        precondition(nextLayer == configuration.layerCount, "\(nextLayer) of \(configuration.layerCount) blocks written")
        let digest = checksum.hexDigest()
        try file.setAttribute("content_sha256", .string(digest))
        try file.closeChecked()
    }

    private func writeGroup(_ group: String, _ statistics: ChannelStatistics, withHessian: Bool) throws {
        try file.createGroup(group)
        try file.setAttribute("tokens", .integer(Int64(statistics.tokens)), on: group)
        let vectors = [statistics.meanAbs, statistics.maxAbs, statistics.meanSquare]
        for (name, values) in zip(StatisticsLayout.channelDatasets, vectors) {
            try writeDataset("\(group)/\(name)", floats: values, shape: [values.count])
        }
        if withHessian, let matrix = statistics.hessian {
            try writeDataset("\(group)/\(StatisticsLayout.hessian)", floats: matrix, shape: [statistics.width, statistics.width])
        }
    }

    private func writeDataset(_ name: String, floats values: [Float], shape: [Int]) throws {
        try file.write(name, floats: values, shape: shape)
        StatisticsChecksum.add(name, values.map { $0.bitPattern.littleEndian }, to: &checksum)
    }

    private func writeDataset(_ name: String, int32s values: [Int32], shape: [Int]) throws {
        try file.write(name, int32s: values, shape: shape)
        StatisticsChecksum.add(name, values.map { UInt32(bitPattern: $0).littleEndian }, to: &checksum)
    }
}

/// The content checksum: SHA-256 over every dataset in write order, each as its name's length and
/// UTF-8 bytes, its element count, then its elements as 32-bit little-endian words.
enum StatisticsChecksum {
    static func add(_ name: String, _ words: [UInt32], to hasher: inout SHA256) {
        hasher.update(lengthPrefixed: name)
        hasher.update(int64: Int64(words.count))
        words.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }
}

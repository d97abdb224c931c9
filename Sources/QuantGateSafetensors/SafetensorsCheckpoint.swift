import Foundation
import QuantGateOutput
import QuantGateTensors

/// The weights of a checkpoint: one `.safetensors` file, or the shards that
/// `model.safetensors.index.json` lists, seen as one set of uniquely named tensors.
public final class SafetensorsCheckpoint: Sendable {
    /// The name of the sharding index transformers writes.
    public static let indexFileName = "model.safetensors.index.json"
    /// The name of an unsharded checkpoint's weights.
    public static let singleFileName = "model.safetensors"

    /// The opened files, in name order.
    public let files: [SafetensorsFile]
    /// The index file's path when the checkpoint is sharded.
    public let indexPath: String?
    private let locations: [String: Int]

    /// Opens a checkpoint from a `.safetensors` file or a model directory.
    ///
    /// In a directory, `model.safetensors.index.json` wins when present: every shard it names must
    /// exist and hold the tensors it maps to it. Otherwise `model.safetensors`, else every
    /// `*.safetensors` file in the directory. Every file's header is validated on open.
    /// - Throws: ``SafetensorsError`` naming the file or shard at fault.
    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SafetensorsError.unreadable(file: path, reason: "no such file or directory")
        }
        if !isDirectory.boolValue {
            files = [try SafetensorsFile(path: path)]
            indexPath = nil
        } else {
            let directory = URL(fileURLWithPath: path)
            let index = directory.appendingPathComponent(Self.indexFileName).path
            if FileManager.default.fileExists(atPath: index) {
                files = try Self.openShards(index: index, directory: directory)
                indexPath = index
            } else {
                files = try Self.openUnindexed(directory: directory)
                indexPath = nil
            }
        }
        var locations: [String: Int] = [:]
        for (position, file) in files.enumerated() {
            for tensor in file.tensors {
                if let earlier = locations.updateValue(position, forKey: tensor.name) {
                    throw SafetensorsError.duplicateTensor(tensor: tensor.name, files: [files[earlier].path, file.path])
                }
            }
        }
        self.locations = locations
    }

    /// All tensors, file by file, each file's in data order.
    public var tensors: [TensorInfo] { files.flatMap(\.tensors) }

    /// The tensor named `name` and the file that holds it, or nil.
    public func locate(_ name: String) -> (tensor: TensorInfo, file: SafetensorsFile)? {
        guard let position = locations[name], let tensor = files[position].tensor(named: name) else { return nil }
        return (tensor, files[position])
    }

    /// The values of the tensor named `name`, converted to f32.
    /// - Throws: ``SafetensorsError/tensorNotFound(name:location:)``.
    public func floats(named name: String) throws -> [Float] {
        guard let (_, file) = locate(name) else {
            throw SafetensorsError.tensorNotFound(name: name, location: indexPath ?? files.first?.path ?? "checkpoint")
        }
        return try file.floats(named: name)
    }

    /// The values of the int32 tensor named `name` (packed quantized weights), row-major.
    /// - Throws: ``SafetensorsError/tensorNotFound(name:location:)``; a tensor of another dtype is a
    ///   ``SafetensorsError/unsupportedDType(file:tensor:dtype:)``.
    public func int32s(named name: String) throws -> [Int32] {
        guard let (tensor, file) = locate(name) else {
            throw SafetensorsError.tensorNotFound(name: name, location: indexPath ?? files.first?.path ?? "checkpoint")
        }
        guard tensor.dtype == .int32 else { throw SafetensorsError.unsupportedDType(file: file.path, tensor: name, dtype: tensor.dtype.rawValue) }
        return file.withBytes(of: tensor) { bytes in
            (0..<(bytes.count / 4)).map { Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        }
    }

    private struct Index: Decodable {
        var weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    private static func openShards(index: String, directory: URL) throws -> [SafetensorsFile] {
        let map: [String: String]
        do {
            map = try JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: index))).weightMap
        } catch {
            throw SafetensorsError.malformedIndex(index: index, reason: "\(OutputError.plainReason(error)) (expected {\"weight_map\": {tensor: shard file}})")
        }
        var shards: [String: SafetensorsFile] = [:]
        for shard in Set(map.values).sorted() {
            guard !shard.contains("/"), shard != "..", !shard.isEmpty else {
                throw SafetensorsError.malformedIndex(index: index, reason: "shard name '\(shard)' is not a plain file name")
            }
            let shardPath = directory.appendingPathComponent(shard).path
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw SafetensorsError.missingShard(index: index, shard: shard)
            }
            shards[shard] = try SafetensorsFile(path: shardPath)
        }
        for (tensor, shard) in map.sorted(by: { $0.key < $1.key }) where shards[shard]?.tensor(named: tensor) == nil {
            throw SafetensorsError.tensorMissingFromShard(index: index, tensor: tensor, shard: shard)
        }
        return shards.keys.sorted().compactMap { shards[$0] }
    }

    private static func openUnindexed(directory: URL) throws -> [SafetensorsFile] {
        let single = directory.appendingPathComponent(singleFileName).path
        if FileManager.default.fileExists(atPath: single) { return [try SafetensorsFile(path: single)] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let found = names.filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !found.isEmpty else { throw SafetensorsError.noSafetensorsFiles(directory: directory.path) }
        return try found.map { try SafetensorsFile(path: directory.appendingPathComponent($0).path) }
    }
}

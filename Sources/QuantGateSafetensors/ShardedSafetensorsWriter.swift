import Foundation
import QuantGateTensors

/// Writes a checkpoint's tensors as Hugging Face does: one `model.safetensors` when everything fits in
/// one shard, else `model-0000i-of-0000n.safetensors` files and `model.safetensors.index.json`
/// (`metadata.total_size` and a `weight_map`), shards filled greedily in the given order, a tensor
/// larger than the limit alone in its shard (huggingface_hub's `split_state_dict_into_shards`).
public enum ShardedSafetensorsWriter {
    /// Parses a shard-size flag: a byte count with an optional decimal (`KB`, `MB`, `GB`, `TB`) or
    /// binary (`KiB`, `MiB`, `GiB`, `TiB`) unit, as `max_shard_size` does ("5GB" is 5·10⁹ bytes).
    public static func parseSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [
            ("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824), ("TIB", 1_099_511_627_776),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
        ]
        let upper = trimmed.uppercased()
        for (suffix, factor) in units where upper.hasSuffix(suffix) {
            guard let number = Double(upper.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number > 0,
                  (number * factor).isFinite, number * factor >= 1, number * factor < 9e18 else { return nil }
            return Int(number * factor)
        }
        guard let bytes = Int(trimmed), bytes > 0 else { return nil }
        return bytes
    }

    /// Writes `tensors` into `directory` (which must exist, and hold none of the files), each file with `metadata`.
    /// - Returns: the file names written, in order.
    /// - Throws: ``SafetensorsError/invalidWrite(file:reason:)`` naming the shard at fault.
    @discardableResult
    public static func write(_ tensors: [PendingTensor], maxShardBytes: Int, metadata: [String: String],
                             to directory: String) throws -> [String] {
        let shards = split(tensors, maxShardBytes: maxShardBytes)
        let root = URL(fileURLWithPath: directory)
        guard shards.count > 1 else {
            try SafetensorsWriter.write(tensors, metadata: metadata, to: root.appendingPathComponent(SafetensorsCheckpoint.singleFileName).path)
            return [SafetensorsCheckpoint.singleFileName]
        }
        var names: [String] = []
        var weightMap: [String: String] = [:]
        for (position, shard) in shards.enumerated() {
            let name = String(format: "model-%05d-of-%05d.safetensors", position + 1, shards.count)
            try SafetensorsWriter.write(shard, metadata: metadata, to: root.appendingPathComponent(name).path)
            for tensor in shard { weightMap[tensor.name] = name }
            names.append(name)
        }
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        let index = JSONValue.object([
            "metadata": .object(["total_size": .number(Double(total))]),
            "weight_map": .object(weightMap.mapValues { .string($0) }),
        ])
        let indexPath = root.appendingPathComponent(SafetensorsCheckpoint.indexFileName).path
        try Data((PythonJSON.render(index) + "\n").utf8).write(to: URL(fileURLWithPath: indexPath))
        return names + [SafetensorsCheckpoint.indexFileName]
    }

    /// Greedy split in order; an oversized tensor gets a shard of its own.
    static func split(_ tensors: [PendingTensor], maxShardBytes: Int) -> [[PendingTensor]] {
        var shards: [[PendingTensor]] = []
        var current: [PendingTensor] = [], size = 0
        for tensor in tensors {
            if tensor.byteCount > maxShardBytes {
                shards.append([tensor])
                continue
            }
            if size + tensor.byteCount > maxShardBytes && !current.isEmpty {
                shards.append(current)
                (current, size) = ([], 0)
            }
            current.append(tensor)
            size += tensor.byteCount
        }
        if !current.isEmpty || shards.isEmpty { shards.append(current) }
        return shards
    }
}

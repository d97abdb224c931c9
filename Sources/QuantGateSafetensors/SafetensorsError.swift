/// Everything that can be wrong with a safetensors file, a sharded checkpoint or a write.
/// Each case names the file (and the tensor or field) at fault.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file could not be opened, mapped, or read.
    case unreadable(file: String, reason: String)
    /// Shorter than the 8-byte header-length prefix.
    case tooSmall(file: String, size: Int)
    /// A Git LFS pointer (the weights were never downloaded).
    case gitLFSPointer(file: String)
    /// An HTML page (a login wall or error page saved in place of the weights).
    case htmlPage(file: String)
    /// The header length prefix exceeds the format's 100 MB limit.
    case headerTooLarge(file: String, length: UInt64)
    /// The header length prefix points past the end of the file.
    case headerOutOfBounds(file: String, length: UInt64, fileSize: Int)
    /// The header is not a well-formed JSON object (`reason` says where).
    case malformedHeader(file: String, reason: String)
    /// A field of the header has the wrong type or value.
    case invalidField(file: String, tensor: String, field: String, reason: String)
    /// A dtype string that the safetensors format does not define.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A dtype of the format that QuantGate does not read (sub-byte floats, complex, …).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// `data_offsets` span does not equal `shape` × dtype size.
    case sizeMismatch(file: String, tensor: String, expectedBytes: Int, actualBytes: Int)
    /// `data_offsets` reach past the end of the data buffer.
    case dataOutOfBounds(file: String, tensor: String, end: Int, bufferSize: Int)
    /// Two tensors' byte ranges overlap.
    case overlap(file: String, tensor: String, previous: String)
    /// Bytes between two tensors (or before the first) belong to no tensor.
    case gap(file: String, tensor: String, offset: Int)
    /// Bytes after the last tensor belong to no tensor.
    case trailingBytes(file: String, count: Int)
    /// `model.safetensors.index.json` names a shard that is not on disk.
    case missingShard(index: String, shard: String)
    /// The index maps a tensor to a shard that does not contain it.
    case tensorMissingFromShard(index: String, tensor: String, shard: String)
    /// A tensor name appears in two shards.
    case duplicateTensor(tensor: String, files: [String])
    /// No tensor of that name in the checkpoint.
    case tensorNotFound(name: String, location: String)
    /// `model.safetensors.index.json` is not the JSON object transformers writes.
    case malformedIndex(index: String, reason: String)
    /// The directory holds no `*.safetensors` file.
    case noSafetensorsFiles(directory: String)
    /// A writer was given inconsistent input (duplicate name, wrong byte count, …).
    case invalidWrite(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read: \(reason)"
        case .tooSmall(let file, let size):
            "\(file): not a safetensors file: \(size) bytes, shorter than the 8-byte header length"
        case .gitLFSPointer(let file):
            "\(file): is a Git LFS pointer, not the weights; run `git lfs pull` (or download the real file)"
        case .htmlPage(let file):
            "\(file): is an HTML page, not a safetensors file (a login or error page saved in place of the weights?)"
        case .headerTooLarge(let file, let length):
            "\(file): header length \(length) exceeds the 100000000-byte limit (corrupt or not safetensors)"
        case .headerOutOfBounds(let file, let length, let fileSize):
            "\(file): header length \(length) runs past the end of the \(fileSize)-byte file (truncated?)"
        case .malformedHeader(let file, let reason):
            "\(file): malformed header: \(reason)"
        case .invalidField(let file, let tensor, let field, let reason):
            "\(file): tensor '\(tensor)': field '\(field)' \(reason)"
        case .unknownDType(let file, let tensor, let dtype):
            "\(file): tensor '\(tensor)': unknown dtype '\(dtype)'"
        case .unsupportedDType(let file, let tensor, let dtype):
            "\(file): tensor '\(tensor)': dtype '\(dtype)' is valid safetensors but not supported by QuantGate"
        case .sizeMismatch(let file, let tensor, let expected, let actual):
            "\(file): tensor '\(tensor)': shape × dtype size is \(expected) bytes but data_offsets span \(actual)"
        case .dataOutOfBounds(let file, let tensor, let end, let bufferSize):
            "\(file): tensor '\(tensor)': data ends at \(end), past the \(bufferSize)-byte data buffer (truncated?)"
        case .overlap(let file, let tensor, let previous):
            "\(file): tensor '\(tensor)': data overlaps tensor '\(previous)'"
        case .gap(let file, let tensor, let offset):
            "\(file): tensor '\(tensor)': unused bytes before it (data should start at offset \(offset))"
        case .trailingBytes(let file, let count):
            "\(file): \(count) trailing bytes after the last tensor (file not fully covered by the header)"
        case .missingShard(let index, let shard):
            "\(index): shard '\(shard)' is listed in weight_map but missing from the directory"
        case .tensorMissingFromShard(let index, let tensor, let shard):
            "\(index): weight_map puts tensor '\(tensor)' in '\(shard)', which does not contain it"
        case .duplicateTensor(let tensor, let files):
            "tensor '\(tensor)' appears in more than one file: \(files.joined(separator: ", "))"
        case .tensorNotFound(let name, let location):
            "\(location): no tensor named '\(name)'"
        case .malformedIndex(let index, let reason):
            "\(index): malformed index: \(reason)"
        case .noSafetensorsFiles(let directory):
            "\(directory): no *.safetensors file (and no model.safetensors.index.json) in this directory"
        case .invalidWrite(let file, let reason):
            "\(file): cannot write: \(reason)"
        }
    }
}

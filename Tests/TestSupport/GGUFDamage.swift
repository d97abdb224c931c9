import Foundation
import QuantGateFormats

/// Deliberately damaged copies of GGUF files, for tests that a gate catches what a broken converter
/// or a corrupted download produces.
public enum GGUFDamage {
    /// Copies `source` to `destination` with the rows of tensor `name` in reversed order (every other
    /// tensor and all metadata unchanged): the file stays well-formed, types and sizes intact.
    public static func reverseRows(of name: String, in source: String, to destination: String) throws {
        let file = try GGUFFile(path: source)
        let tensors = file.tensors.map { info in
            GGUFPendingTensor(name: info.name, shape: info.shape, type: info.type) {
                var bytes = file.withBytes(of: info) { Array($0) }
                if info.name == name {
                    let rowBytes = info.type.rowBytes(info.shape[0])
                    let rows = bytes.count / rowBytes
                    var reversed = [UInt8]()
                    reversed.reserveCapacity(bytes.count)
                    for row in (0..<rows).reversed() { reversed += bytes[(row * rowBytes)..<((row + 1) * rowBytes)] }
                    bytes = reversed
                }
                return bytes
            }
        }
        try GGUFWriter.write(to: destination, metadata: file.header.metadata, tensors: tensors, alignment: file.header.alignment)
    }

    /// Copies `source` with its last `bytes` bytes cut off (a truncated download).
    public static func truncate(_ source: String, by bytes: Int, to destination: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        try data.prefix(data.count - bytes).write(to: URL(fileURLWithPath: destination))
    }
}

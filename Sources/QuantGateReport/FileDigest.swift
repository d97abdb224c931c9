import Crypto
import Foundation

/// SHA-256 of files, streamed in 4 MiB chunks (a multi-GB artefact is never loaded whole).
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path`.
    /// - Throws: ``ReportError`` when the file cannot be read.
    public static func sha256(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ReportError("\(path): cannot be read") }
        defer { try? handle.close() }
        var hash = SHA256()
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 4 << 20) } catch { throw ReportError("\(path): read failed: \(error.localizedDescription)") }
            guard let chunk, !chunk.isEmpty else { break }
            hash.update(data: chunk)
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// The files that make up an artefact: the file itself, or every regular file under a directory.
public enum ArtefactFiles {
    /// Every file with its size and SHA-256, paths relative to the artefact (the file name for a single
    /// file), sorted. Symbolic links are followed; anything else that is not a regular file is an error.
    public static func list(path: String) throws -> [ArtefactFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReportError("\(path): no such file or directory")
        }
        let root = URL(fileURLWithPath: path)
        let relative: [String]
        if isDirectory.boolValue {
            guard let enumerator = FileManager.default.enumerator(atPath: path) else { throw ReportError("\(path): cannot be listed") }
            var found: [String] = []
            while let next = enumerator.nextObject() as? String {
                var nested: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: root.appendingPathComponent(next).path, isDirectory: &nested)
                if !nested.boolValue { found.append(next) }
            }
            relative = found.sorted()
        } else {
            relative = [root.lastPathComponent]
        }
        return try relative.map { name in
            let file = isDirectory.boolValue ? root.appendingPathComponent(name).path : path
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { throw ReportError("\(file): not a regular file") }
            let bytes = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            return ArtefactFile(path: name, bytes: bytes, sha256: try FileDigest.sha256(path: file))
        }
    }
}

/// An input or usage problem found while reading or writing reports, policies and manifests; the
/// description is the whole message, naming the file and the field.
public struct ReportError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

import Crypto
import Foundation
import QuantGateOutput

/// SHA-256 of files, streamed in 4 MiB chunks (a multi-GB artefact is never loaded whole).
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path`.
    /// - Throws: ``ReportError`` when the file cannot be read, saying why ("is a directory").
    public static func sha256(path: String) throws -> String {
        var hash = SHA256()
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
                hash.update(data: chunk)
            }
        } catch {
            throw ReportError.unreadable(path, error)
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// The files that make up an artefact: the file itself, or every regular file under a directory.
public enum ArtefactFiles {
    /// Every file with its size and SHA-256, sorted by path. Paths are relative to the folder that holds
    /// the artefact, the layout a promotion manifest records and `quantgate verify` checks: a single-file
    /// artefact is its file name, a directory artefact's files are `NAME/FILE` (`NAME/sub/FILE` when nested).
    /// - Throws: ``ReportError`` for a missing path, or a symbolic link or special file where a regular file
    ///   must be (links are refused, not followed, so what is hashed is what a deploy copies).
    public static func list(path: String) throws -> [ArtefactFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReportError("\(path): no such file or directory")
        }
        let name = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        guard isDirectory.boolValue else {
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch { throw ReportError.unreadable(path, error) }
            guard attributes[.type] as? FileAttributeType == .typeRegular else { throw ReportError("\(path): not a regular file") }
            let bytes = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            return [ArtefactFile(path: name, bytes: bytes, sha256: try FileDigest.sha256(path: path))]
        }
        let tree = try DirectoryTree(root: path)
        if let entry = tree.refused.first {
            throw ReportError("\(DirectoryTree.join(path, entry.path)): \(entry.kind); an artefact directory may hold only regular files and folders")
        }
        return try tree.files.sorted { $0.key < $1.key }.map { relative, bytes in
            ArtefactFile(path: name + "/" + relative, bytes: bytes, sha256: try FileDigest.sha256(path: DirectoryTree.join(path, relative)))
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

    /// `path` could not be read: the file and the I/O failure in words ("PATH: no such file or directory").
    public static func unreadable(_ path: String, _ error: any Error) -> ReportError {
        ReportError("\(path): \(OutputError.plainReason(error))")
    }
}

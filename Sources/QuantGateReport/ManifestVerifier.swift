import Foundation

/// A difference between a manifest and the files on disk.
public struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file on disk, under the verified directory as given.
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// What ``ManifestVerifier`` found.
public struct ManifestVerification: Sendable, Equatable {
    /// Every difference, sorted by path; empty when the directory holds exactly the manifest's files.
    public var problems: [VerifyProblem]
    /// How many distinct files the manifest lists.
    public var files: Int
    /// The promoted artefacts as the directory holds them (the first component of each path), sorted.
    public var artefacts: [String]
}

/// Checks, before deploy, that a directory holds exactly what a gate promoted.
public enum ManifestVerifier {
    /// Compares `directory`, the folder holding the artefacts, with the manifest at `manifestPath`.
    ///
    /// The directory must hold exactly the listed files, at any depth: each one present with its recorded
    /// size and SHA-256, and no other file (a stray file inside an artefact directory or beside the
    /// artefacts is a difference, since a deploy step copies the directory). Empty folders hold no file
    /// and are not reported.
    /// - Throws: ``ReportError`` for an unreadable or invalid manifest (``PromotionManifest/read(path:)``
    ///   checks every path before the disk is touched), a directory that is missing or not a directory, and
    ///   any symbolic link or special file under it (refused wherever it points, never followed).
    public static func verify(manifestPath: String, directory: String) throws -> ManifestVerification {
        let manifest = try PromotionManifest.read(path: manifestPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { throw ReportError("\(directory): no such directory") }
        guard isDirectory.boolValue else { throw ReportError("\(directory): not a directory") }
        let tree = try DirectoryTree(root: directory)
        guard tree.refused.isEmpty else {
            throw ReportError(tree.refused.map { "\(DirectoryTree.join(directory, $0.path)): \($0.kind); verify refuses links, special files and names that are one up to Unicode normalization inside the directory" }
                .joined(separator: "\n"))
        }

        var listed: [String: (file: ArtefactFile, artefact: String)] = [:]
        for artefact in manifest.artefacts {
            for file in artefact.files where listed[file.path] == nil { listed[file.path] = (file, artefact.name) }
        }
        var problems: [VerifyProblem] = []
        for (path, entry) in listed {
            let onDisk = DirectoryTree.join(directory, path)
            guard let bytes = tree.files[path] else {
                problems.append(VerifyProblem(path: onDisk, reason: "missing (listed for \(entry.artefact))"))
                continue
            }
            guard bytes == entry.file.bytes else {
                problems.append(VerifyProblem(path: onDisk, reason: "\(bytes) bytes, the manifest records \(entry.file.bytes)"))
                continue
            }
            let hash = try FileDigest.sha256(path: onDisk)
            if hash != entry.file.sha256 {
                problems.append(VerifyProblem(path: onDisk, reason: "SHA-256 \(hash) differs from the manifest's \(entry.file.sha256)"))
            }
        }
        let artefacts = Set(listed.keys.map { String($0.prefix { $0 != "/" }) })
        for path in tree.files.keys where listed[path] == nil {
            let top = String(path.prefix { $0 != "/" })
            let reason = artefacts.contains(top) && top != path
                ? "not in the manifest: artefact \(top) must hold exactly its listed files"
                : "not in the manifest: the directory must hold only the promoted artefacts"
            problems.append(VerifyProblem(path: DirectoryTree.join(directory, path), reason: reason))
        }
        return ManifestVerification(problems: problems.sorted { $0.path < $1.path }, files: listed.count, artefacts: artefacts.sorted())
    }
}

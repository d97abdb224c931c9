import Foundation

/// Everything under a directory, found without following symbolic links: the regular files with their
/// sizes, and the entries that are neither a file nor a folder (links, devices, FIFOs, sockets) or whose names
/// differ from another's only in their Unicode normalization.
struct DirectoryTree {
    /// An entry that is not a regular file or a directory.
    struct Refused {
        /// Relative to the root, `/`-separated.
        var path: String
        /// What it is, in words ("a symbolic link", …).
        var kind: String
    }

    /// Regular files by their path relative to the root (`/`-separated), with their sizes in bytes.
    private(set) var files: [String: Int64] = [:]
    /// Links and special files, in walk order (names sorted at each level).
    private(set) var refused: [Refused] = []

    /// Walks `root` (which may itself be reached through a link; nothing under it is followed).
    /// - Throws: ``ReportError`` naming a folder that cannot be listed or an entry that cannot be read.
    init(root: String) throws {
        try walk(root, relative: "")
    }

    /// `name` under `folder`, as a path string (the folder as given, so messages show the user's path).
    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    private mutating func walk(_ folder: String, relative: String) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch { throw ReportError("\(folder): cannot be listed") }
        // Swift compares strings up to Unicode canonical equivalence: two names with different bytes but the same
        // letters (NFC and NFD) would count as one file, so such a pair is refused rather than half checked.
        var seen: [String: String] = [:]
        for name in names.sorted() {
            let path = Self.join(folder, name)
            let entry = relative.isEmpty ? name : relative + "/" + name
            if let twin = seen[name], Array(twin.utf8) != Array(name.utf8) {
                refused.append(Refused(path: entry, kind: "a name that differs from \(twin) only in its Unicode normalization"))
                continue
            }
            seen[name] = name
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch { throw ReportError.unreadable(path, error) }
            switch attributes[.type] as? FileAttributeType {
            case .typeRegular?: files[entry] = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            case .typeDirectory?: try walk(path, relative: entry)
            case .typeSymbolicLink?: refused.append(Refused(path: entry, kind: "a symbolic link"))
            default: refused.append(Refused(path: entry, kind: "neither a regular file nor a directory"))
            }
        }
    }
}

import Foundation

/// One output of a command (a file or a directory) and the one way QuantGate writes it:
///
/// - an existing path is refused unless `replace` (`--force`) is given; a directory is replaced only when
///   it is one QuantGate wrote (it holds ``marker``), a file output never replaces a directory and a
///   directory output never replaces a file;
/// - everything is written into a unique temporary sibling (``TemporaryName``), flushed to disk, then
///   renamed onto the final name (atomically; without `replace`, a name that appeared meanwhile is not
///   overwritten);
/// - on any error, or an interrupt (SIGINT, SIGTERM, SIGHUP), the temporary is removed, as are parent
///   directories this write created; what a process killed outright (SIGKILL) left is removed by the next
///   write of the same output on the same machine.
///
/// ``write(_:)`` does it in one step; ``stage(_:)`` and ``StagedOutput/commit()`` in two, so a command with
/// several outputs renames them only once all of them are complete.
public struct OutputDestination: Sendable {
    /// Whether the output is a single file or a directory.
    public enum Kind: Sendable { case file, directory }

    /// The file QuantGate puts in every directory it writes, so `--force` can tell its own outputs apart.
    public static let marker = ".quantgate-output"

    /// The final path, as given (a trailing `/` removed).
    public let path: String
    /// A file or a directory.
    public let kind: Kind
    /// Whether an existing output may be replaced (`--force`; a directory only if QuantGate wrote it).
    public let replace: Bool

    /// - Throws: ``OutputError`` for an empty path.
    public init(_ path: String, kind: Kind, replace: Bool) throws {
        guard !path.isEmpty else { throw OutputError(path: "\"\"", reason: "an empty path is not an output file or directory") }
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.path = trimmed
        self.kind = kind
        self.replace = replace
    }

    /// Throws unless the output may be written now (see the type's rules); writes nothing.
    public func checkWritable() throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR && !Self.hasExistingFileAncestor(path) { return }
            throw OutputError(path: path, reason: "cannot be checked: \(OutputError.describe(errno: errno))")
        }
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR
        switch (kind, isDirectory) {
        case (.file, true):
            throw OutputError(path: path, reason: "is a directory; the output is a file (give a file name)")
        case (.directory, false):
            throw OutputError(path: path, reason: "exists and is not a directory; the output is a directory (choose another path)")
        case (_, _) where !replace:
            throw OutputError(path: path, reason: "already exists (pass --force to replace it)")
        case (.directory, true) where !Self.isOurs(directory: path):
            throw OutputError(path: path, reason: "is a directory QuantGate did not write (it has no \(Self.marker)); "
                              + "refusing to replace it even with --force: remove it yourself or choose another path")
        default:
            return
        }
    }

    /// Whether `directory` holds QuantGate's ``marker``.
    public static func isOurs(directory: String) -> Bool {
        var info = stat()
        return lstat(directory + "/" + marker, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// Writes the output in one step: ``stage(_:)``, then ``StagedOutput/commit()``.
    /// - Throws: ``OutputError`` (the path refused, or an I/O failure in plain words) or what `body`
    ///   throws; nothing is left behind.
    @discardableResult
    public func write<T>(_ body: (String) throws -> T) throws -> T {
        let (staged, result) = try stage(body)
        try staged.commit()
        return result
    }

    /// Writes the output under its temporary name: `body` gets the temporary path (for a directory:
    /// created, holding the marker; for a file: not yet created) and fills it; then it is flushed to disk.
    /// Nothing appears under ``path`` until the returned ``StagedOutput`` is committed; one never committed
    /// is removed.
    /// - Throws: ``OutputError`` (the path refused, or an I/O failure in plain words) or what `body`
    ///   throws; nothing is left behind.
    public func stage<T>(_ body: (String) throws -> T) throws -> (StagedOutput, T) {
        try checkWritable()
        let parent = (path as NSString).deletingLastPathComponent
        let created = try Self.createParents(parent.isEmpty ? "." : parent, for: path)
        TemporaryName.removeAbandoned(of: path)
        let staged = StagedOutput(destination: self, temporary: TemporaryName.make(for: path), createdParents: created)
        let temporary = staged.temporary
        do {
            if kind == .directory {
                try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
                try Data("QuantGate wrote this directory; `--force` may replace it.\n".utf8)
                    .write(to: URL(fileURLWithPath: temporary + "/" + Self.marker))
            }
            let result = try body(temporary)
            try Self.flush(temporary)
            return (staged, result)
        } catch let error as OutputError {
            // An output written inside this one is named by its final path, never the temporary's.
            guard error.path.hasPrefix(temporary) else { throw error }
            throw OutputError(path: path + error.path.dropFirst(temporary.count), reason: error.reason)
        } catch let error where Self.isFoundationError(error) {
            throw OutputError.cannotWrite(path, error)
        }
    }

    /// Creates the missing directories up to `directory`; returns the ones created, outermost first.
    private static func createParents(_ directory: String, for output: String) throws -> [String] {
        var missing: [String] = []
        var current = directory
        var info = stat()
        while stat(current, &info) != 0 {
            guard errno == ENOENT else { throw OutputError(path: output, reason: "cannot be written: \(current): \(OutputError.describe(errno: errno))") }
            missing.append(current)
            let up = (current as NSString).deletingLastPathComponent
            if up.isEmpty || up == current { break }
            current = up
        }
        if missing.isEmpty && info.st_mode & S_IFMT != S_IFDIR {
            throw OutputError(path: output, reason: "cannot be written: \(directory) is not a directory")
        }
        var created: [String] = []
        for path in missing.reversed() {
            guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
                let reason = OutputError.describe(errno: errno)
                for made in created.reversed() { rmdir(made) }
                throw OutputError(path: output, reason: "cannot be written: cannot create \(path): \(reason)")
            }
            created.append(path)
        }
        return created
    }

    /// Whether a path component above `path` is an existing non-directory (ENOTDIR is then a real error).
    private static func hasExistingFileAncestor(_ path: String) -> Bool {
        var current = (path as NSString).deletingLastPathComponent
        var info = stat()
        while !current.isEmpty && current != "/" {
            if stat(current, &info) == 0 { return info.st_mode & S_IFMT != S_IFDIR }
            current = (current as NSString).deletingLastPathComponent
        }
        return false
    }

    /// fsync of every regular file and directory under `path` (or of the file itself).
    private static func flush(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // the body wrote nothing: an empty output is its own affair
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in try FileManager.default.contentsOfDirectory(atPath: path) { try flush(path + "/" + name) }
        } else if info.st_mode & S_IFMT != S_IFREG {
            return
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 || errno == EINVAL else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Removes a file or a directory tree, ignoring what is already gone.
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func isFoundationError(_ error: any Error) -> Bool {
        error is POSIXError || error is CocoaError || (error as NSError).domain == NSCocoaErrorDomain || (error as NSError).domain == NSPOSIXErrorDomain
    }
}

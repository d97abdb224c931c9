import Foundation

/// An output complete under its temporary name (``OutputDestination/stage(_:)``), waiting to be renamed
/// onto its final path by ``commit()``; removed, with the parent directories its write created, when it is
/// discarded or released uncommitted (an error elsewhere in the command).
public final class StagedOutput: @unchecked Sendable {
    /// Where it goes.
    public let destination: OutputDestination
    /// Where it is now.
    public let temporary: String
    private let createdParents: [String]
    private var done = false

    init(destination: OutputDestination, temporary: String, createdParents: [String]) {
        self.destination = destination
        self.temporary = temporary
        self.createdParents = createdParents
        TemporaryRegistry.shared.add(temporary, createdParents: createdParents)
    }

    deinit { discard() }

    /// Renames the output onto its final path: without `replace`, never over an existing name; with it, a file
    /// is replaced atomically, and a directory is moved aside, the new one moved in and the old one deleted
    /// (put back if the second rename fails).
    /// - Throws: ``OutputError`` (a path that appeared meanwhile, a failed rename); the output is then discarded.
    public func commit() throws {
        precondition(!done, "an output is committed once")
        do {
            try destination.checkWritable()
            try moveIntoPlace()
        } catch {
            discard()
            throw error
        }
        done = true
        TemporaryRegistry.shared.remove(temporary)
        let parent = (destination.path as NSString).deletingLastPathComponent
        let descriptor = open(parent.isEmpty ? "." : parent, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    /// Removes the temporary and the parent directories its write created (if empty); later calls do nothing.
    public func discard() {
        guard !done else { return }
        done = true
        TemporaryRegistry.shared.remove(temporary)
        OutputDestination.removeTree(temporary)
        for directory in createdParents.reversed() { rmdir(directory) }
    }

    private func moveIntoPlace() throws {
        let path = destination.path
        if !destination.replace || !FileManager.default.fileExists(atPath: path) {
            try TemporaryName.renameWithoutReplacing(temporary, to: path, isFile: destination.kind == .file)
            return
        }
        if destination.kind == .file {
            guard rename(temporary, path) == 0 else { throw OutputError(path: path, reason: "cannot be replaced: \(OutputError.describe(errno: errno))") }
            return
        }
        let aside = TemporaryName.replaced(temporary)
        guard rename(path, aside) == 0 else {
            throw OutputError(path: path, reason: "cannot be moved aside to be replaced: \(OutputError.describe(errno: errno))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = OutputError.describe(errno: errno)
            _ = rename(aside, path)
            throw OutputError(path: path, reason: "cannot be replaced: \(reason)")
        }
        OutputDestination.removeTree(aside)
    }
}

import Foundation

/// The temporary siblings outputs are written under: `.NAME.quantgate-PID-RANDOM-HOST.partial` (HOST a hash of
/// this machine's name, so a process on another machine or container sharing the folder is never taken for
/// a dead one), and `…partial-replaced` for an old directory moved aside while it is replaced.
enum TemporaryName {
    /// A fresh temporary name beside `path`: unique per process and call.
    static func make(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let name = ".\(url.lastPathComponent).quantgate-\(getpid())-\(random)-\(hostTag).partial"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The name an old directory is moved aside to while `temporary` replaces it.
    static func replaced(_ temporary: String) -> String { temporary + "-replaced" }

    /// FNV-1a (32-bit, hex) of this machine's host name.
    static let hostTag: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var hash: UInt32 = 0x811C_9DC5
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return String(hash, radix: 16)
    }()

    /// Removes what writers of `path` on this machine left when they were killed outright (SIGKILL, the
    /// out-of-memory killer): temporaries whose process is gone. An old directory left moved aside is put back
    /// when nothing took its place. A live process's temporary, or another machine's, is never touched.
    static func removeAbandoned(of path: String) {
        let url = URL(fileURLWithPath: path)
        let prefix = ".\(url.lastPathComponent).quantgate-"
        let parent = url.deletingLastPathComponent().path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(prefix) {
            let isAside = name.hasSuffix(".partial-replaced")
            guard isAside || name.hasSuffix(".partial") else { continue }
            let fields = name.dropFirst(prefix.count).split(separator: "-")
            guard fields.count >= 3, let pid = Int32(fields[0]), pid > 0, fields[2].hasPrefix(hostTag + ".") else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            let abandoned = parent + "/" + name
            if isAside && !FileManager.default.fileExists(atPath: path) && rename(abandoned, path) == 0 { continue }
            OutputDestination.removeTree(abandoned)
        }
    }

    /// Renames `temporary` onto `path` unless `path` exists. A file is hard-linked (which fails on an existing
    /// name) and its temporary name removed; where the filesystem has no hard links, and for a directory, a
    /// rename after a check (a rename fails over a file or a non-empty directory).
    static func renameWithoutReplacing(_ temporary: String, to path: String, isFile: Bool) throws {
        func failure(_ code: Int32) -> OutputError {
            [EEXIST, ENOTEMPTY, ENOTDIR, EISDIR].contains(code)
                ? OutputError(path: path, reason: "appeared while it was being written (pass --force to replace it)")
                : OutputError(path: path, reason: "cannot be written: \(OutputError.describe(errno: code))")
        }
        if isFile {
            if link(temporary, path) == 0 {
                unlink(temporary)
                return
            }
            guard [EPERM, ENOTSUP, EOPNOTSUPP, EXDEV, EMLINK].contains(errno) else { throw failure(errno) }
        }
        guard !FileManager.default.fileExists(atPath: path) else { throw failure(EEXIST) }
        guard rename(temporary, path) == 0 else { throw failure(errno) }
    }
}

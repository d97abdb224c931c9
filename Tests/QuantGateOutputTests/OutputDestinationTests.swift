import Foundation
@testable import QuantGateOutput
import QuantGateTestSupport
import Testing

/// The one output discipline: what exists is refused or replaced by the rules, the temporary is unique,
/// and nothing is left behind on an error.
@Suite("OutputDestination")
struct OutputDestinationTests {
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qg-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every entry of `directory` (hidden ones included), sorted.
    static func entries(_ directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    struct Boom: Error {}

    @Test("a new file is written; an existing one is refused without replace and replaced with it")
    func fileRules() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("out.bin").path
        try OutputDestination(path, kind: .file, replace: false).write { try Data("one".utf8).write(to: URL(fileURLWithPath: $0)) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one")
        let refused = #expect(throws: OutputError.self) {
            try OutputDestination(path, kind: .file, replace: false).write { try Data("two".utf8).write(to: URL(fileURLWithPath: $0)) }
        }
        #expect(refused?.reason.contains("already exists (pass --force") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one")
        try OutputDestination(path, kind: .file, replace: true).write { try Data("two".utf8).write(to: URL(fileURLWithPath: $0)) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
        #expect(Self.entries(root) == ["out.bin"])
    }

    @Test("a file output never replaces a directory, even with replace; its contents survive")
    func fileOverDirectory() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("v/sub")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: directory.appendingPathComponent("f"))
        for replace in [false, true] {
            let error = #expect(throws: OutputError.self) {
                try OutputDestination(root.appendingPathComponent("v").path, kind: .file, replace: replace).write { _ in }
            }
            #expect(error?.reason.contains("is a directory") == true)
        }
        #expect(try String(contentsOf: directory.appendingPathComponent("f"), encoding: .utf8) == "x")
    }

    @Test("a directory is replaced only with replace and only when QuantGate wrote it; never over a file")
    func directoryRules() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let user = root.appendingPathComponent("user")
        try FileManager.default.createDirectory(at: user, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: user.appendingPathComponent("notes.txt"))
        let foreign = #expect(throws: OutputError.self) {
            try OutputDestination(user.path, kind: .directory, replace: true).write { _ in }
        }
        #expect(foreign?.reason.contains("did not write") == true)
        #expect(Self.entries(user) == ["notes.txt"])

        let ours = root.appendingPathComponent("ours")
        try OutputDestination(ours.path + "/", kind: .directory, replace: false).write {
            try Data("1".utf8).write(to: URL(fileURLWithPath: $0).appendingPathComponent("a"))
        }
        #expect(Self.entries(ours) == [OutputDestination.marker, "a"].sorted())
        #expect(throws: OutputError.self) { try OutputDestination(ours.path, kind: .directory, replace: false).write { _ in } }
        try OutputDestination(ours.path, kind: .directory, replace: true).write {
            try Data("2".utf8).write(to: URL(fileURLWithPath: $0).appendingPathComponent("b"))
        }
        #expect(Self.entries(ours) == [OutputDestination.marker, "b"].sorted())

        let file = root.appendingPathComponent("file")
        try Data("f".utf8).write(to: file)
        #expect(throws: OutputError.self) { try OutputDestination(file.path, kind: .directory, replace: true).write { _ in } }
        #expect(Self.entries(root) == ["file", "ours", "user"])
    }

    @Test("an error in the body leaves nothing behind: no temporary, no created parents, the old output intact")
    func errorLeavesNothing() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let deep = root.appendingPathComponent("a/b/out.h5").path
        #expect(throws: Boom.self) {
            try OutputDestination(deep, kind: .file, replace: false).write { temporary in
                try Data("half".utf8).write(to: URL(fileURLWithPath: temporary))
                throw Boom()
            }
        }
        #expect(Self.entries(root).isEmpty)
        let existing = root.appendingPathComponent("kept")
        try OutputDestination(existing.path, kind: .directory, replace: false).write { _ in }
        #expect(throws: Boom.self) {
            try OutputDestination(existing.path, kind: .directory, replace: true).write { _ in throw Boom() }
        }
        #expect(Self.entries(root) == ["kept"])
        #expect(Self.entries(existing) == [OutputDestination.marker])
    }

    @Test("what a killed process left is cleaned by the next write (an old directory moved aside is put back); a live process's or another machine's is kept")
    func abandonedTemporaries() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let (dead, host) = (finished.processIdentifier, TemporaryName.hostTag)
        func name(_ output: String, _ pid: Int32, _ tag: String, _ suffix: String = ".partial") -> URL {
            root.appendingPathComponent(".\(output).quantgate-\(pid)-abc-\(tag)\(suffix)")
        }
        let abandoned = name("out.gguf", dead, host)
        let live = name("out.gguf", getpid(), host)
        let elsewhere = name("out.gguf", dead, "0")
        let other = name("other.gguf", dead, host)
        for url in [abandoned, live, elsewhere, other] { try Data("half".utf8).write(to: url) }
        try OutputDestination(root.appendingPathComponent("out.gguf").path, kind: .file, replace: false).write {
            try Data("whole".utf8).write(to: URL(fileURLWithPath: $0))
        }
        #expect(Self.entries(root) == [live, elsewhere, other].map(\.lastPathComponent).sorted() + ["out.gguf"])

        // Killed between moving the old directory aside and moving the new one in: the old one comes back.
        let aside = name("run", dead, host, ".partial-replaced")
        try OutputDestination(aside.path, kind: .directory, replace: false).write { _ in }
        try OutputDestination(root.appendingPathComponent("other-run").path, kind: .directory, replace: false).write { _ in }
        TemporaryName.removeAbandoned(of: root.appendingPathComponent("run").path)
        #expect(OutputDestination.isOurs(directory: root.appendingPathComponent("run").path))
        #expect(!FileManager.default.fileExists(atPath: aside.path))
    }

    @Test("an empty path and a path under a file are refused in plain words")
    func badPaths() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let empty = #expect(throws: OutputError.self) { try OutputDestination("", kind: .file, replace: true) }
        #expect(empty?.reason.contains("empty path") == true)
        let file = root.appendingPathComponent("plain")
        try Data().write(to: file)
        let under = #expect(throws: OutputError.self) {
            try OutputDestination(file.appendingPathComponent("x.gguf").path, kind: .file, replace: false).write { _ in }
        }
        #expect(under?.description.contains("not a directory") == true)
        #expect(under?.description.contains("NSCocoaErrorDomain") == false)
    }

    @Test("concurrent writers of one path: one wins, the other is refused, the file is whole, no temporaries remain")
    func concurrentWriters() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("stats.h5").path
        let payloads = (0..<4).map { Data(repeating: UInt8($0), count: 1 << 20) }
        let outcomes = Outcomes()
        DispatchQueue.concurrentPerform(iterations: payloads.count) { index in
            do {
                try OutputDestination(path, kind: .file, replace: false).write { temporary in
                    try payloads[index].write(to: URL(fileURLWithPath: temporary))
                }
                outcomes.record(success: true)
            } catch {
                outcomes.record(success: false)
            }
        }
        #expect(outcomes.successes == 1)
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(payloads.contains(written))
        #expect(Self.entries(root) == ["stats.h5"])
    }

    @Test("Foundation I/O errors are told in plain words")
    func plainReasons() {
        let full = CocoaError(.fileWriteOutOfSpace)
        #expect(OutputError.plainReason(full) == "no space left on device")
        let underlying = NSError(domain: NSCocoaErrorDomain, code: 512,
                                 userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EROFS))])
        #expect(OutputError.plainReason(underlying) == "read-only file system")
        #expect(OutputError.cannotWrite("/x/y", POSIXError(.EACCES)).description == "/x/y: cannot be written: permission denied")
    }

    @Test("a full disk is an OutputError naming the output, and leaves nothing behind",
          .enabled(if: SmallFilesystem.available, "needs root and `mount -t tmpfs` (not available here)"))
    func fullDisk() throws {
        let mount = try #require(SmallFilesystem(megabytes: 1))
        defer { mount.unmount() }
        let path = mount.path + "/big.bin"
        let error = #expect(throws: OutputError.self) {
            try OutputDestination(path, kind: .file, replace: false).write { temporary in
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary, isDirectory: false).createdEmpty())
                defer { try? handle.close() }
                for _ in 0..<4 { try handle.write(contentsOf: Data(repeating: 7, count: 1 << 20)) }
            }
        }
        #expect(error?.description == "\(path): cannot be written: no space left on device")
        #expect(Self.entries(URL(fileURLWithPath: mount.path)).isEmpty)
    }
}

/// Successes counted across threads.
final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var successes = 0
    func record(success: Bool) {
        lock.lock()
        if success { successes += 1 }
        lock.unlock()
    }
}

extension URL {
    /// Creates an empty file here and returns the URL.
    func createdEmpty() -> URL {
        FileManager.default.createFile(atPath: path, contents: nil)
        return self
    }
}

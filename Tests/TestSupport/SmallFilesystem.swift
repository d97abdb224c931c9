import Foundation

/// A tmpfs of a few megabytes mounted in a temporary directory, to test what a full disk does. Needs
/// root and a kernel that lets this process mount (CI runs as root; elsewhere the tests that need it are
/// skipped, saying why).
public struct SmallFilesystem: Sendable {
    public let path: String

    /// Whether a small tmpfs can be mounted here.
    public static let available: Bool = {
        guard let probe = SmallFilesystem(megabytes: 1) else { return false }
        probe.unmount()
        return true
    }()

    public init?(megabytes: Int) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qg-full-\(UUID().uuidString)").path
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil else { return nil }
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory]) else {
            try? FileManager.default.removeItem(atPath: directory)
            return nil
        }
        path = directory
    }

    public func unmount() {
        _ = Self.run("/bin/umount", [path])
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

import Dispatch
import Foundation

/// A progress counter on stderr: redrawn in place on a terminal; elsewhere (a CI log, a file) one plain
/// line every ``logInterval`` seconds, so a run of minutes or hours shows that it moves and how far it is.
final class Progress: @unchecked Sendable {
    let enabled: Bool
    let interactive: Bool
    let label: String
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastLogged: UInt64

    /// Seconds between two plain lines when stderr is not a terminal.
    static let logInterval = 30.0

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        interactive = enabled && isatty(STDERR_FILENO) == 1
        self.label = label
        lastLogged = started
    }

    func update(_ done: Int, of total: Int) {
        guard enabled else { return }
        if interactive {
            FileHandle.standardError.write(Data("\r\(label): \(done)/\(total)".utf8))
        } else if let line = Self.periodicLine(last: &lastLogged, started: started) {
            FileHandle.standardError.write(Data("\(label): \(done)/\(total) \(line)\n".utf8))
        }
    }

    func finish() {
        guard interactive else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// "after N s" when ``logInterval`` has passed since `last` (which it then moves to now); else nil.
    static func periodicLine(last: inout UInt64, started: UInt64) -> String? {
        let now = DispatchTime.now().uptimeNanoseconds
        guard Double(now - last) / 1e9 >= logInterval else { return nil }
        last = now
        return String(format: "after %.0f s", Double(now - started) / 1e9)
    }
}

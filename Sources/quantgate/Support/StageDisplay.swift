import Foundation

/// Stage lines and a step counter on stderr for long multi-stage work (lines always; the counter
/// only on a terminal).
struct StageDisplay: Sendable {
    let enabled: Bool
    let interactive: Bool

    init(enabled: Bool) {
        self.enabled = enabled
        interactive = enabled && isatty(STDERR_FILENO) == 1
    }

    func log(_ line: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }

    func progress(_ stage: String, _ done: Int, _ total: Int) {
        guard interactive else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(stage): \(done)/\(total)".utf8))
    }

    func finish() {
        guard interactive else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

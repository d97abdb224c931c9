import Foundation

/// A one-line progress counter on stderr, shown only when stderr is a terminal.
struct Progress {
    let enabled: Bool
    let label: String

    init(enabled: Bool, label: String) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
        self.label = label
    }

    func update(_ done: Int, of total: Int) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\(label): \(done)/\(total)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

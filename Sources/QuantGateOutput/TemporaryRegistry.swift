import Dispatch
import Foundation

/// The temporary outputs being written right now, removed (with the parent directories their writes created)
/// when the process is interrupted (SIGINT, SIGTERM, SIGHUP), so that Ctrl-C or a CI timeout leaves nothing
/// behind; the process then exits with 128 + the signal number, as a shell reports it.
final class TemporaryRegistry: @unchecked Sendable {
    static let shared = TemporaryRegistry()

    private let lock = NSLock()
    private var entries: [String: [String]] = [:]
    private var sources: [any DispatchSourceSignal] = []
    private var installed = false

    func add(_ temporary: String, createdParents: [String]) {
        lock.lock()
        defer { lock.unlock() }
        entries[temporary] = createdParents
        guard !installed else { return }
        installed = true
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { [unowned self] in self.interrupted(by: signal) }
            source.resume()
            sources.append(source)
        }
    }

    func remove(_ temporary: String) {
        lock.lock()
        defer { lock.unlock() }
        entries[temporary] = nil
    }

    private func interrupted(by signal: Int32) {
        lock.lock()  // held until exit: no write registers or renames anything meanwhile
        // Innermost first (a nested output lives inside its parent's temporary).
        for (temporary, parents) in entries.sorted(by: { $0.key.count > $1.key.count }) {
            OutputDestination.removeTree(temporary)
            for directory in parents.reversed() { rmdir(directory) }
        }
        FileHandle.standardError.write(Data("\ninterrupted: removed \(entries.count) unfinished output(s)\n".utf8))
        _exit(128 + signal)
    }
}

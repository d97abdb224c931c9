import Dispatch
import Foundation

/// The temporary outputs being written right now, removed when the process is interrupted (SIGINT,
/// SIGTERM, SIGHUP) so that Ctrl-C or a CI timeout leaves nothing behind; the process then exits with
/// 128 + the signal number, as a shell reports it.
final class TemporaryRegistry: @unchecked Sendable {
    static let shared = TemporaryRegistry()

    private let lock = NSLock()
    private var paths: Set<String> = []
    private var sources: [any DispatchSourceSignal] = []
    private var installed = false

    func add(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.insert(path)
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

    func remove(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.remove(path)
    }

    private func interrupted(by signal: Int32) {
        lock.lock()
        let pending = paths
        lock.unlock()
        for path in pending { OutputDestination.removeTree(path) }
        FileHandle.standardError.write(Data("\ninterrupted: removed \(pending.count) unfinished output(s)\n".utf8))
        _exit(128 + signal)
    }
}

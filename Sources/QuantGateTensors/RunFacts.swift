import Foundation

/// What a run measured about itself, for every `--json` output: the OpenBLAS kernel family in use, the
/// process's peak resident memory and its wall time, so that an estimate can be checked against what happened.
public struct RunFacts: Sendable, Codable, Equatable {
    /// The OpenBLAS kernel family and how it was chosen.
    public var blas: OpenBLASKernels.Selection
    /// Peak resident set size of the process so far (`VmHWM`), in bytes; nil where the kernel does not say.
    public var peakRSSBytes: Int?
    /// Seconds since the process started.
    public var wallSeconds: Double
    /// The stages run so far (``stage(_:_:)``), in order.
    public var stages: [RunStage]

    /// The figures now.
    public static func now() -> RunFacts {
        RunFacts(blas: OpenBLASKernels.current, peakRSSBytes: peakResidentBytes(),
                 wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - processStart) / 1e9, stages: recorder.stages())
    }

    /// Runs `body` as the stage `name` of this run and records its wall seconds and the process's peak resident
    /// memory when it ends, for every later `--json` output: the stage that raised the peak is the first whose
    /// figure reaches it. (The kernel's high-water mark is never reset: `/usr/bin/time` and `getrusage` keep
    /// seeing the whole run's peak.) Stages do not nest.
    public static func stage<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            recorder.record(RunStage(name: name, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                                     peakRSSBytes: peakResidentBytes()))
        }
        return try body()
    }

    /// `VmHWM` from /proc/self/status, in bytes.
    public static func peakResidentBytes() -> Int? { statusBytes("VmHWM:") }

    /// `VmRSS` from /proc/self/status (the resident set now), in bytes.
    public static func residentBytes() -> Int? { statusBytes("VmRSS:") }

    private static func statusBytes(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    private static let recorder = StageRecorder()

    /// Read once, at the first use of this type (the command line touches it before any work starts).
    public static let processStart = DispatchTime.now().uptimeNanoseconds
}

/// One stage of a run (``RunFacts/stage(_:_:)``).
public struct RunStage: Sendable, Codable, Equatable {
    public var name: String
    public var seconds: Double
    /// The process's peak resident set size when the stage ended (the run's peak so far), in bytes; nil where
    /// the kernel does not say.
    public var peakRSSBytes: Int?
}

/// The stages recorded so far.
private final class StageRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [RunStage] = []

    func record(_ stage: RunStage) { lock.withLock { recorded.append(stage) } }

    func stages() -> [RunStage] { lock.withLock { recorded } }
}

import Foundation

/// What a run measured about itself, for every `--json` output: the OpenBLAS kernel family in use, the
/// process's peak resident memory and its wall time, so that an estimate can be checked against what happened.
public struct RunFacts: Sendable, Codable, Equatable {
    /// The OpenBLAS kernel family and how it was chosen.
    public var blas: OpenBLASKernels.Selection
    /// Peak resident set size of the process so far (`VmHWM`, across stages), in bytes; nil where the kernel
    /// does not say.
    public var peakRSSBytes: Int?
    /// Seconds since the process started.
    public var wallSeconds: Double
    /// The stages run so far (``stage(_:_:)``), in order.
    public var stages: [RunStage]

    /// The figures now.
    public static func now() -> RunFacts {
        let (stages, earlierPeak) = recorder.snapshot()
        let peak = peakResidentBytes().map { max($0, earlierPeak ?? 0) } ?? earlierPeak
        return RunFacts(blas: OpenBLASKernels.current, peakRSSBytes: peak,
                        wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - processStart) / 1e9, stages: stages)
    }

    /// Runs `body` as the stage `name` of this run and records its wall seconds and its own peak resident
    /// memory (the kernel's high-water mark is reset when the stage starts, `/proc/self/clear_refs`), for
    /// every later `--json` output. Stages do not nest.
    public static func stage<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        recorder.startStage()
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            recorder.record(RunStage(name: name, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                                     peakRSSBytes: peakResidentBytes()))
        }
        return try body()
    }

    /// `VmHWM` from /proc/self/status, in bytes.
    public static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
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
    /// The peak resident set size while the stage ran, in bytes; nil where the kernel does not say.
    public var peakRSSBytes: Int?
}

/// The stages recorded so far, and the process's peak before the last high-water-mark reset.
private final class StageRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stages: [RunStage] = []
    private var peakBeforeReset: Int?

    /// Keeps the peak so far, then resets the kernel's high-water mark to the current resident size.
    func startStage() {
        lock.withLock {
            if let now = RunFacts.peakResidentBytes() { peakBeforeReset = max(peakBeforeReset ?? 0, now) }
            // "5" resets VmHWM (Linux ≥ 4.0); where it cannot be written, stage peaks are peaks since the start.
            let descriptor = open("/proc/self/clear_refs", O_WRONLY)
            if descriptor >= 0 {
                _ = write(descriptor, "5", 1)
                close(descriptor)
            }
        }
    }

    func record(_ stage: RunStage) { lock.withLock { stages.append(stage) } }

    func snapshot() -> ([RunStage], Int?) { lock.withLock { (stages, peakBeforeReset) } }
}

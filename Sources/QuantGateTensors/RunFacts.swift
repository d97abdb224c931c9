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

    /// The figures now.
    public static func now() -> RunFacts {
        RunFacts(blas: OpenBLASKernels.current, peakRSSBytes: peakResidentBytes(),
                 wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - processStart) / 1e9)
    }

    /// `VmHWM` from /proc/self/status, in bytes.
    public static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// Read once, at the first use of this type (the command line touches it before any work starts).
    public static let processStart = DispatchTime.now().uptimeNanoseconds
}

import Foundation
import QuantGateCalibration

/// What `quantgate calibrate` reports: the data diagnostics, the data-fit check, the preflight
/// estimate and the cache outcome, as text or JSON.
struct CalibrationReport: Encodable {
    var sources: [String]
    var samples: Int
    var seqLen: Int
    var seed: UInt64
    var dataHash: String
    var modelHash = ""
    var diagnostics: DataDiagnostics
    var fit: FitCheck?
    var preflight: Preflight?
    var cache = "absent"
    /// Block passes run (0 on a cache hit).
    var blockPasses = 0
    var seconds: Double?
    var output: String?

    init(set: CalibrationSet) {
        sources = set.sources
        samples = set.requestedSequences
        seqLen = set.requestedLength
        seed = set.seed
        dataHash = set.dataHash
        diagnostics = set.diagnostics
    }

    var text: String {
        let d = diagnostics
        var lines = ["data        \(sources.joined(separator: ", "))"]
        if let lengths = d.documentTokens {
            lines.append("documents   \(d.documents), tokens each: min \(lengths.minimum), median \(lengths.median), "
                + "p90 \(lengths.p90), max \(lengths.maximum)")
        }
        lines.append("tokens      \(d.tokensAvailable) available, \(d.tokensRequested) asked (\(samples) × \(seqLen)), "
            + "\(d.tokensUsed) used in \(d.windowsUsed) of \(d.windowsAvailable) windows (seed \(seed))")
        lines.append(String(format: "quality     %.3f%% unknown, %.3f%% byte-fallback tokens, %d duplicate windows",
                            100 * d.unknownShare, 100 * d.byteFallbackShare, d.duplicateWindows))
        if let fit {
            lines.append(String(format: "fit         perplexity %.2f on the data vs %.2f on %@ (%.2f×%@)",
                                fit.calibrationPerplexity, fit.referencePerplexity, Self.relative(fit.reference), fit.ratio,
                                fit.isFar ? ", FAR from the model's text" : ""))
        }
        if let p = preflight {
            lines.append("preflight   peak memory ≈ \(Self.bytes(p.peakBytes)) (hidden states \(Self.bytes(p.hiddenStateBytes)), "
                + "weights \(Self.bytes(p.weightBytes)), activations \(Self.bytes(p.activationBytes)), "
                + "accumulators \(Self.bytes(p.accumulatorBytes)))")
            lines.append(String(format: "            time ≈ %@ (forward at %.0f tokens/s%@), cache file ≈ %@",
                                Self.duration(p.seconds), p.forwardTokensPerSecond,
                                p.hessianSeconds > 0 ? String(format: ", Hessians at %.1f GFLOP/s", p.syrkGFLOPS) : "",
                                Self.bytes(p.cacheFileBytes)))
        }
        lines.append("cache       \(cache)")
        if let seconds, let output {
            lines.append(String(format: "done        %d block passes in %.1f s (%.0f tokens/s) → %@", blockPasses, seconds,
                                Double(d.tokensUsed) / seconds, output))
        } else if let output {
            lines.append("done        nothing to compute → \(output)")
        }
        return lines.joined(separator: "\n")
    }

    /// `path` relative to the working directory when it lies below it.
    static func relative(_ path: String) -> String {
        let base = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    static func bytes(_ count: Int) -> String {
        let value = Double(count)
        if value >= 1_073_741_824 { return String(format: "%.2f GiB", value / 1_073_741_824) }
        if value >= 1_048_576 { return String(format: "%.1f MiB", value / 1_048_576) }
        return String(format: "%.0f KiB", value / 1024)
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let whole = Int(seconds.rounded(.up))
        return whole >= 3600 ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
            : String(format: "%d:%02d", whole / 60, whole % 60)
    }
}

/// `block i/n · tokens/s · ETA` on stderr: redrawn in place on a terminal, elsewhere one plain line every
/// ``Progress/logInterval`` seconds.
final class CalibrationProgressLine: @unchecked Sendable {
    private let enabled: Bool, interactive: Bool
    private var lastDrawn: UInt64 = 0
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastLogged: UInt64

    init(enabled: Bool) {
        self.enabled = enabled
        interactive = enabled && isatty(STDERR_FILENO) == 1
        lastLogged = started
    }

    func update(_ p: CalibrationProgress) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if interactive {
            guard now - lastDrawn > 100_000_000 || p.tokensDone >= p.tokensTotal else { return }
            lastDrawn = now
        } else if Progress.periodicLine(last: &lastLogged, started: started) == nil {
            return
        }
        let rate = p.tokensDone / max(p.seconds, 1e-9)
        let eta = (p.tokensTotal - p.tokensDone) / max(rate, 1e-9)
        let line = String(format: "calibrate: block %d/%d · window %d/%d · %.0f tokens/s · ETA %@", p.layer + 1, p.layers,
                          p.window, p.windows, rate, CalibrationReport.duration(eta))
        FileHandle.standardError.write(Data((interactive ? "\r" + line + "   " : line + "\n").utf8))
    }

    func finish() {
        guard interactive else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

import Foundation

/// What one stage of a run is expected to cost, as `--dry-run` prints it: named as the stage a real run records
/// in its `--json` output's `run.stages` (``RunStage``), so that the estimate can be checked against what happened.
public struct StageEstimate: Sendable, Codable, Equatable {
    /// The stage's name (`check`, `calibrate`, `gptq`, `awq`, `quantize`, `write`, `perplexity`, …).
    public var name: String
    /// The process's expected peak resident memory while the stage runs, in bytes.
    public var peakRSSBytes: Int
    /// Expected wall seconds.
    public var seconds: Double
    /// What the figures count, in a few words.
    public var basis: String

    public init(name: String, peakRSSBytes: Int, seconds: Double, basis: String) {
        (self.name, self.peakRSSBytes, self.seconds, self.basis) = (name, peakRSSBytes, seconds, basis)
    }
}

/// A whole run's estimate: its stages in order, what they rest on, and what they leave out.
public struct RunEstimate: Sendable, Codable, Equatable {
    public var stages: [StageEstimate]
    /// What the estimate leaves out (work that is run but not estimated), in plain words.
    public var notIncluded: [String]

    public init(stages: [StageEstimate], notIncluded: [String] = []) {
        (self.stages, self.notIncluded) = (stages, notIncluded)
    }

    /// The largest stage peak.
    public var peakRSSBytes: Int { stages.map(\.peakRSSBytes).max() ?? 0 }
    /// The stages' seconds summed.
    public var seconds: Double { stages.reduce(0) { $0 + $1.seconds } }

    /// A table: one line per stage, then the total, then what is left out.
    public var text: String {
        func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) }
        func padded(_ s: String, _ width: Int) -> String { s.padding(toLength: max(width, s.count), withPad: " ", startingAt: 0) }
        var lines = ["stage        peak memory   seconds   basis"]
        for stage in stages {
            lines.append(padded(stage.name, 12) + " " + padded(gigabytes(stage.peakRSSBytes), 13) + " "
                         + padded(Self.seconds(stage.seconds), 9) + " " + stage.basis)
        }
        lines.append(padded("total", 12) + " " + padded(gigabytes(peakRSSBytes), 13) + " " + Self.seconds(seconds))
        lines += notIncluded.map { "not estimated: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// Seconds to one decimal below 10, whole above.
    private static func seconds(_ value: Double) -> String { String(format: value < 10 ? "%.1f" : "%.0f", value) }
}

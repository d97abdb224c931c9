import Foundation
import QuantGateReport
import QuantGateTensors

/// Every `--json` output goes through here: the command's own object with a `run` member added
/// (``RunFacts``: the OpenBLAS kernel family, peak RSS, wall seconds), pretty-printed with sorted keys.
enum JSONOutput {
    /// Prints `value` with the run's facts on stdout. `value` must encode as a JSON object (a command whose
    /// result is a list wraps it, e.g. `{"rows": […]}`).
    static func print<T: Encodable>(_ value: T) throws {
        Swift.print(try ReportJSON.string(WithRun(value: value, run: .now())), terminator: "")
    }

    /// `value`'s keys and `run`, in one object.
    private struct WithRun<Value: Encodable>: Encodable {
        var value: Value
        var run: RunFacts

        private enum Key: String, CodingKey { case run }

        func encode(to encoder: Encoder) throws {
            try value.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(run, forKey: .run)
        }
    }
}

import Foundation
import QuantGateFormats
import QuantGateOutput
import Yams

/// Reading and writing ``GatePolicy`` files.
extension GatePolicy {
    /// Keys of a target entry, in the order `yaml()` writes them.
    static let targetKeys = ["perplexity_delta_pct", "mean_kld", "p99_kld", "top1_agreement_pct", "task_accuracy_delta_pt",
                             "tasks", "smoke", "inconclusive"]

    /// Reads a YAML or JSON policy file.
    /// - Throws: ``ReportError`` naming the file and what is wrong: unreadable (no such file, a directory,
    ///   not UTF-8 text), a YAML syntax error at its line, or the key path at fault (unknown key or target
    ///   name, wrong type, non-finite number, missing or unsupported `version`).
    public static func load(path: String) throws -> GatePolicy {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw ReportError.unreadable(path, error) }
        guard let text = String(data: data, encoding: .utf8) else { throw ReportError("\(path): is not UTF-8 text") }
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw ReportError("\(path)\(syntaxError(error))") }
        return try parse(root, file: path)
    }

    /// A YAML syntax error as `:LINE: not YAML or JSON: PROBLEM (column C)`, to follow the file name.
    private static func syntaxError(_ error: any Error) -> String {
        switch error as? YamlError {
        case .scanner(_, let problem, let mark, _)?, .parser(_, let problem, let mark, _)?, .composer(_, let problem, let mark, _)?:
            ":\(mark.line): not YAML or JSON: \(problem) (column \(mark.column))"
        case .duplicatedKeysInMapping(let duplicates, let context)?:
            ":\(context.mark.line): repeats the key \(duplicates.sorted().joined(separator: ", "))"
        case .reader(let problem, _, _, _)?:
            ": not YAML or JSON: \(problem)"
        default:
            ": not YAML or JSON"
        }
    }

    static func parse(_ root: Any?, file: String) throws -> GatePolicy {
        func fail(_ key: String, _ reason: String) -> ReportError { ReportError("\(file): \(key): \(reason)") }
        guard let top = root as? [String: Any] else { throw ReportError("\(file): expected a mapping with version and targets") }
        try checkKeys(top, allowed: ["version", "inconclusive", "targets"], path: "", fail: fail)
        guard let version = top["version"] as? Int else { throw fail("version", "missing or not an integer (expected \(currentVersion))") }
        guard version == currentVersion else { throw fail("version", "\(version) is not supported (expected \(currentVersion))") }
        var policy = GatePolicy.defaults
        if let rule = top["inconclusive"] { policy.inconclusive = try inconclusiveRule(rule, key: "inconclusive", fail: fail) }
        guard let targets = top["targets"] ?? [String: Any]() as Any?, let entries = targets as? [String: Any] else {
            throw fail("targets", "must be a mapping of target name to thresholds")
        }
        for (name, value) in entries.sorted(by: { $0.key < $1.key }) {
            let path = "targets.\(name)"
            guard let defaults = policy.targets[name.lowercased()] else {
                throw fail(path, "unknown target (expected one of \(HardwareTarget.allNames.joined(separator: ", ")))")
            }
            guard let entry = value as? [String: Any] else { throw fail(path, "must be a mapping of thresholds") }
            try checkKeys(entry, allowed: targetKeys, path: path, fail: fail)
            var given = GateThresholds()
            func read(_ key: String, in range: ClosedRange<Double>, _ hint: String) throws -> Double? {
                try number(entry[key], key: "\(path).\(key)", fail: fail).map { value in
                    guard range.contains(value) else { throw fail("\(path).\(key)", "\(value) is outside \(hint)") }
                    return value
                }
            }
            given.perplexityDeltaPercent = try read("perplexity_delta_pct", in: 0...1e6, "0 or more (a percentage increase)")
            given.meanKLD = try read("mean_kld", in: 0...1e6, "0 or more (nats)")
            given.p99KLD = try read("p99_kld", in: 0...1e6, "0 or more (nats)")
            given.top1AgreementPercent = try read("top1_agreement_pct", in: 0...100, "0...100 (percent)")
            given.taskAccuracyDeltaPoints = try read("task_accuracy_delta_pt", in: -100...0, "-100...0 (a loss in points: write -3 for a 3-point loss)")
            if let tasks = entry["tasks"] {
                guard let suites = tasks as? [String: Any] else { throw fail("\(path).tasks", "must be a mapping of suite name to points") }
                for (suite, points) in suites {
                    let value = try number(points, key: "\(path).tasks.\(suite)", fail: fail)
                    guard let value, (-100...0).contains(value) else {
                        throw fail("\(path).tasks.\(suite)", "must be a number in -100...0 (a loss in points: write -3 for a 3-point loss)")
                    }
                    given.taskOverrides[suite] = value
                }
            }
            if let smoke = entry["smoke"] {
                switch smoke as? String {
                case "required": given.smokeRequired = true
                case "optional": given.smokeRequired = false
                default: throw fail("\(path).smoke", "must be required or optional")
                }
            }
            if let rule = entry["inconclusive"] { given.inconclusive = try inconclusiveRule(rule, key: "\(path).inconclusive", fail: fail) }
            policy.targets[name.lowercased()] = defaults.overridden(by: given)
        }
        return policy
    }

    private static func checkKeys(_ mapping: [String: Any], allowed: [String], path: String,
                                  fail: (String, String) -> ReportError) throws {
        for key in mapping.keys.sorted() where !allowed.contains(key) {
            throw fail(path.isEmpty ? key : "\(path).\(key)", "unknown key (expected one of \(allowed.joined(separator: ", ")))")
        }
    }

    private static func number(_ value: Any?, key: String, fail: (String, String) -> ReportError) throws -> Double? {
        guard let value else { return nil }
        let number: Double
        switch value {
        case let v as Int: number = Double(v)
        case let v as Double: number = v
        default: throw fail(key, "must be a number")
        }
        guard number.isFinite else { throw fail(key, "must be finite") }
        return number
    }

    private static func inconclusiveRule(_ value: Any, key: String, fail: (String, String) -> ReportError) throws -> InconclusiveRule {
        guard let text = value as? String, let rule = InconclusiveRule(rawValue: text) else { throw fail(key, "must be fail or pass") }
        return rule
    }

    /// The policy as a YAML file `load(path:)` reads back to an equal policy.
    public func yaml() -> String {
        var lines = ["# QuantGate gate policy: thresholds per hardware target, relative to the baseline measured in the same run.",
                     "# A metric passes only when its whole 95 % interval is inside the threshold.",
                     "version: \(version)", "inconclusive: \(inconclusive.rawValue)", "targets:"]
        func format(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)" }
        for name in targets.keys.sorted() {
            let t = targets[name]!
            lines.append("  \(name):")
            let numbers: [(String, Double?)] = [("perplexity_delta_pct", t.perplexityDeltaPercent), ("mean_kld", t.meanKLD), ("p99_kld", t.p99KLD),
                                                ("top1_agreement_pct", t.top1AgreementPercent), ("task_accuracy_delta_pt", t.taskAccuracyDeltaPoints)]
            for (key, value) in numbers { if let value { lines.append("    \(key): \(format(value))") } }
            if !t.taskOverrides.isEmpty {
                lines.append("    tasks:")
                for suite in t.taskOverrides.keys.sorted() { lines.append("      \(suite): \(format(t.taskOverrides[suite]!))") }
            }
            if let smoke = t.smokeRequired { lines.append("    smoke: \(smoke ? "required" : "optional")") }
            if let rule = t.inconclusive { lines.append("    inconclusive: \(rule.rawValue)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

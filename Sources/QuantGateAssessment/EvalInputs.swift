import Crypto
import Foundation
import QuantGateCalibration
import QuantGateEval
import QuantGateReport

/// The evaluation text and the task files, resolved from flags: built-in names or paths.
public enum EvalInputs {
    /// Built-in evaluation text: the held-out `Calibration/eval/` corpus.
    public static let builtinTextName = "eval"

    /// The text to score: a file, or a built-in set (`eval`, the held-out corpus; or a calibration set —
    /// `prose`, `code`, `mixed` — whose files are joined with a blank line).
    public static func text(file: String?, data: String?) throws -> (name: String, text: String) {
        if let file {
            return (URL(fileURLWithPath: file).lastPathComponent, try PerplexityRun.readText(file))
        }
        let name = data ?? builtinTextName
        let files: [String]
        if name == builtinTextName {
            files = try builtinFiles(folder: "eval", extensions: ["txt"])
        } else if let set = BuiltinDataset(rawValue: name) {
            files = try set.files()
        } else {
            throw AssessmentError.invalidSetting(
                flag: "--data", reason: "\(name) is not a built-in text (eval, \(BuiltinDataset.allCases.map(\.rawValue).joined(separator: ", "))); use --text FILE for a file")
        }
        return (name, try files.map(PerplexityRun.readText).joined(separator: "\n\n"))
    }

    /// Task-suite files: `builtin` expands to every built-in suite; other values are built-in suite
    /// names or paths to JSONL files.
    public static func suites(_ requested: [String]) throws -> [(suite: TaskSuite, sha256: String)] {
        var paths: [String] = []
        for name in requested {
            if name == "builtin" {
                paths += try builtinFiles(folder: "tasks", extensions: ["jsonl"]).filter { !$0.hasSuffix("/smoke.jsonl") }
            } else if FileManager.default.fileExists(atPath: name) {
                paths.append(name)
            } else {
                let builtin = try builtinFiles(folder: "tasks", extensions: ["jsonl"])
                guard let match = builtin.first(where: { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent == name }) else {
                    let known = builtin.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }.filter { $0 != "smoke" }
                    throw AssessmentError.invalidSetting(
                        flag: "--tasks", reason: "\(name) is neither a file nor a built-in suite (\(known.joined(separator: ", ")))")
                }
                paths.append(match)
            }
        }
        var seen = Set<String>()
        return try paths.compactMap { path in
            let suite = try TaskSuite.load(path: path)
            guard seen.insert(suite.name).inserted else { return nil }
            return (suite, try FileDigest.sha256(path: path))
        }
    }

    /// The built-in smoke-test prompts file.
    public static func smokePromptsPath() throws -> String {
        try builtinFiles(folder: "tasks", extensions: ["jsonl"]).first { $0.hasSuffix("/smoke.jsonl") }
            ?? { throw AssessmentError.unreadable(path: "Calibration/tasks/smoke.jsonl", reason: "is missing") }()
    }

    private static func builtinFiles(folder: String, extensions: Set<String>) throws -> [String] {
        guard let root = CalibrationDirectory.locate() else {
            throw AssessmentError.unreadable(path: "Calibration/", reason: "not found (set QUANTGATE_DATA to the Calibration directory)")
        }
        let directory = URL(fileURLWithPath: root).appendingPathComponent(folder).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let files = names.filter { extensions.contains(URL(fileURLWithPath: $0).pathExtension) }.sorted()
            .map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
        guard !files.isEmpty else { throw AssessmentError.unreadable(path: directory, reason: "holds no built-in files") }
        return files
    }
}

import Foundation
import QuantGateAssessment
import QuantGateEval
import QuantGateModel
import QuantGateTestSupport
import QuantGateTokenizer
import Testing

/// Task suites: the file formats, and the scorer against an independent PyTorch implementation of the
/// same rules (`python3 Tools/make_task_suites.py --measure Tests/Fixtures/bard-5m --golden …`: transformers
/// f32, per-choice log-likelihoods and greedy generations for the first 40 items of each built-in suite).
@Suite("Task suites")
struct TaskSuiteTests {
    static let calibration = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Calibration")

    @Test("the built-in suites load, hold at least 500 items each, and the smoke prompts are there")
    func builtins() throws {
        let suites = try EvalInputs.suites(["builtin"])
        #expect(suites.count >= 3)
        for (suite, hash) in suites {
            #expect(suite.items.count >= 500, "\(suite.name): \(suite.items.count) items")
            #expect(hash.count == 64)
        }
        #expect(try SmokeTest.prompts(path: EvalInputs.smokePromptsPath()).count >= 8)
    }

    @Test("QuantGate's schema and lm-evaluation-harness records; bad lines are named")
    func formats() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("mixed.jsonl").path
        try """
            {"id": "q1", "kind": "choice", "context": "A", "choices": ["b", "c"], "gold": 1, "delimiter": "\\n"}
            {"query": "Question?", "choices": ["yes", "no"], "label": 0}

            {"id": 7, "kind": "exact", "prompt": "P", "target": "T"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let suite = try TaskSuite.load(path: path)
        #expect(suite.name == "mixed" && suite.items.count == 3)
        #expect(suite.items[0].kind == .choice(context: "A", choices: ["b", "c"], gold: 1, delimiter: "\n"))
        #expect(suite.items[1] == TaskItem(id: "2", kind: .choice(context: "Question?", choices: ["yes", "no"], gold: 0, delimiter: " ")))
        #expect(suite.items[2] == TaskItem(id: "7", kind: .exact(prompt: "P", target: "T", stop: ["\n"], maxTokens: 32)))
        let cases = [
            (#"{"kind": "choice", "context": "A", "choices": ["b"], "gold": 0}"#, ":1: field \"choices\" must be an array of at least 2 strings"),
            (#"{"kind": "choice", "context": "A", "choices": ["b", "c"], "gold": 2}"#, ":1: gold 2 is outside the 2 choices"),
            (#"{"kind": "choice", "context": "A", "choices": ["b", "c"], "gold": "0"}"#, ":1: field \"gold\" has the wrong type"),
            (#"{"kind": "essay", "prompt": "A"}"#, ":1: kind \"essay\" is not one of choice, exact"),
            ("not json", ":1: is not a JSON object"),
            ("{\"id\": \"a\", \"prompt\": \"P\", \"target\": \"T\", \"kind\": \"exact\"}\n{\"id\": \"a\", \"prompt\": \"P\", \"target\": \"T\", \"kind\": \"exact\"}",
             ":2: repeats id \"a\""),
        ]
        for (text, expected) in cases {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: EvalError.self) { try TaskSuite.load(path: path) }
            do { _ = try TaskSuite.load(path: path) } catch { #expect("\(error)".contains(path + expected), "\(error)") }
        }
    }

    @Test("scores equal the PyTorch reference: log-likelihoods, acc, acc_norm, greedy outputs")
    func goldenScores() throws {
        let golden = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.golden("tasks_bard-5m.json"))) as? [String: Any])
        let suites = try #require(golden["suites"] as? [String: [String: Any]])
        let directory = try ModelDirectory(path: Fixtures.exampleModel.path)
        let scorer = TaskScorer(model: try LlamaModel(directory: directory), tokenizer: try Tokenizer(directory: Fixtures.exampleModel.path))
        #expect(suites.count >= 3)
        for (name, entry) in suites {
            let reference = try #require(entry["items"] as? [[String: Any]])
            let suite = try TaskSuite.load(path: Self.calibration.appendingPathComponent("tasks/\(name).jsonl").path)
            let items = Array(suite.items.prefix(reference.count))
            let outcomes = try scorer.score(TaskSuite(name: name, items: items))
            for (item, (outcome, expected)) in zip(items, zip(outcomes, reference)) {
                #expect(item.id == expected["id"] as? String)
                if let ll = expected["ll"] as? [Double] {
                    let worst = zip(ll, outcome.logLikelihoods).map { abs($0 - $1) }.max() ?? .infinity
                    #expect(worst < 2e-3, "\(name) \(item.id): ll \(outcome.logLikelihoods) vs \(ll)")
                    // A near-tie may order differently under other summation; anything clearer must agree.
                    let sorted = ll.sorted(by: >)
                    if sorted.count < 2 || sorted[0] - sorted[1] > 1e-2 {
                        #expect(outcome.correct == expected["acc"] as? Bool, "\(name) \(item.id)")
                    }
                    if let norm = expected["acc_norm"] as? Bool, case .choice(_, let choices, _, _) = item.kind {
                        let normalised = zip(ll, choices).map { $0 / Double($1.unicodeScalars.count) }.sorted(by: >)
                        if normalised[0] - normalised[1] > 1e-2 { #expect(outcome.correctNorm == norm, "\(name) \(item.id) acc_norm") }
                    }
                } else {
                    #expect(outcome.output == expected["output"] as? String, "\(name) \(item.id): \(outcome.output ?? "nil")")
                    #expect(outcome.correct == expected["correct"] as? Bool, "\(name) \(item.id)")
                }
            }
        }
    }
}

import Foundation
import QuantGateOutput

/// One item of a task suite (schema: `Calibration/tasks/README.md`).
public struct TaskItem: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Multiple choice by log-likelihood of `context + delimiter + choice`.
        case choice(context: String, choices: [String], gold: Int, delimiter: String)
        /// Greedy generation from `prompt`, cut at the first stop string, compared with `target`.
        case exact(prompt: String, target: String, stop: [String], maxTokens: Int)
    }

    public var id: String
    public var kind: Kind

    public init(id: String, kind: Kind) {
        self.id = id
        self.kind = kind
    }
}

/// A named list of task items.
public struct TaskSuite: Sendable, Equatable {
    public var name: String
    public var items: [TaskItem]

    public init(name: String, items: [TaskItem]) {
        self.name = name
        self.items = items
    }

    /// Reads a JSONL suite: QuantGate's schema (`kind` `choice` or `exact`), or lm-evaluation-harness-style
    /// records (`query` or `context`, `choices`, `gold` or `label`), one JSON object per line; blank lines
    /// are skipped. The suite is named after the file (without `.jsonl`).
    /// - Throws: ``EvalError/invalidTaskFile(file:line:reason:)`` naming the line and field at fault.
    public static func load(path: String) throws -> TaskSuite {
        let text = try TextFile.read(path) { .invalidTaskFile(file: path, line: 0, reason: $0) }
        var items: [TaskItem] = []
        var seen = Set<String>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let number = index + 1
            func fail(_ reason: String) -> EvalError { .invalidTaskFile(file: path, line: number, reason: reason) }
            let record: Record
            do {
                record = try JSONDecoder().decode(Record.self, from: Data(line.utf8))
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                throw fail("is not a JSON object")
            } catch {
                throw fail(OutputError.plainReason(error))
            }
            let item = try record.item(defaultID: "\(number)", fail: fail)
            guard seen.insert(item.id).inserted else { throw fail("repeats id \"\(item.id)\"") }
            items.append(item)
        }
        guard !items.isEmpty else { throw EvalError.invalidTaskFile(file: path, line: 0, reason: "holds no items") }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return TaskSuite(name: name, items: items)
    }

    /// A line as written: the union of both schemas' fields.
    private struct Record: Decodable {
        var id: String?
        var kind: String?
        var context, query, delimiter, prompt, target: String?
        var choices, stop: [String]?
        /// Numbers as JSON holds them (Foundation's decoder words a fraction read as an integer as invalid JSON).
        var numericID, gold, label, maxTokens: Double?

        enum CodingKeys: String, CodingKey {
            case id, kind, context, query, delimiter, prompt, target, choices, stop, gold, label
            case maxTokens = "max_tokens"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            // Ids may be strings or numbers (lm-evaluation-harness exports use both).
            id = try? c.decodeIfPresent(String.self, forKey: .id)
            numericID = id == nil ? try c.decodeIfPresent(Double.self, forKey: .id) : nil
            kind = try c.decodeIfPresent(String.self, forKey: .kind)
            context = try c.decodeIfPresent(String.self, forKey: .context)
            query = try c.decodeIfPresent(String.self, forKey: .query)
            delimiter = try c.decodeIfPresent(String.self, forKey: .delimiter)
            prompt = try c.decodeIfPresent(String.self, forKey: .prompt)
            target = try c.decodeIfPresent(String.self, forKey: .target)
            choices = try c.decodeIfPresent([String].self, forKey: .choices)
            stop = try c.decodeIfPresent([String].self, forKey: .stop)
            gold = try c.decodeIfPresent(Double.self, forKey: .gold)
            label = try c.decodeIfPresent(Double.self, forKey: .label)
            maxTokens = try c.decodeIfPresent(Double.self, forKey: .maxTokens)
        }

        func item(defaultID: String, fail: (String) -> EvalError) throws -> TaskItem {
            func shown(_ number: Double) -> String { Int(exactly: number).map(String.init) ?? "\(number)" }
            var id = self.id ?? defaultID
            if let numericID {
                guard let number = Int(exactly: numericID) else { throw fail("id must be a string or a whole number, got \(shown(numericID))") }
                id = String(number)
            }
            switch kind ?? (choices != nil ? "choice" : nil) {
            case "choice":
                guard let context = context ?? query else { throw fail("needs \"context\" (or \"query\")") }
                guard let choices, choices.count >= 2 else { throw fail("field \"choices\" must be an array of at least 2 strings") }
                guard let number = gold ?? label else { throw fail("needs \"gold\" (or \"label\"): the right choice's index") }
                let key = gold != nil ? "gold" : "label"
                guard let gold = Int(exactly: number) else { throw fail("\(key) must be a whole number index into choices, got \(shown(number))") }
                guard choices.indices.contains(gold) else { throw fail("\(key) \(gold) is outside the \(choices.count) choices") }
                return TaskItem(id: id, kind: .choice(context: context, choices: choices, gold: gold, delimiter: delimiter ?? " "))
            case "exact":
                guard let prompt, let target else { throw fail("needs \"prompt\" and \"target\" strings") }
                let stop = self.stop ?? ["\n"]
                guard stop.allSatisfy({ !$0.isEmpty }) else { throw fail("field \"stop\" must hold non-empty strings") }
                let number = self.maxTokens ?? 32
                guard let maxTokens = Int(exactly: number), (1...4096).contains(maxTokens) else {
                    throw fail("max_tokens must be a whole number in 1...4096, got \(shown(number))")
                }
                return TaskItem(id: id, kind: .exact(prompt: prompt, target: target, stop: stop, maxTokens: maxTokens))
            case let other?:
                throw fail("kind \"\(other)\" is not one of choice, exact")
            case nil:
                throw fail("needs \"kind\" (choice or exact) or lm-evaluation-harness fields (context/query, choices, gold/label)")
            }
        }
    }
}

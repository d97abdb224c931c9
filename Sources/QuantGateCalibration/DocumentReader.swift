import QuantGateHDF5
import Dispatch
import Foundation
import QuantGateOutput
import QuantGateTensors
import QuantGateTokenizer

/// Calibration input turned into token ids: documents to be sampled from, or windows given as is.
struct TokenizedInput {
    /// Token ids of each document (special tokens added as the tokenizer adds them).
    var documents: [[Int]] = []
    /// Windows from an `N×L` token file, taken as they are, in order.
    var fixedWindows: [[Int]]?
}

/// Reads text, JSONL and HDF5 token files into ``TokenizedInput``.
enum DocumentReader {
    /// Reads and tokenizes every source, in order.
    /// - Throws: ``CalibrationDataError`` naming the file (and line) at fault.
    static func read(_ sources: [CalibrationDataSource], tokenizer: Tokenizer, vocabularySize: Int) throws -> TokenizedInput {
        var texts: [String] = []
        var input = TokenizedInput()
        var pretokenized: [[Int]] = []
        for source in sources {
            switch source {
            case .builtin(let set):
                for path in try set.files() { texts.append(try readText(path)) }
            case .text(let path):
                texts.append(try readText(path))
            case .jsonl(let path, let field):
                texts.append(contentsOf: try readJSONL(path, field: field))
            case .tokens(let path):
                let (shape, values) = try readTokens(path, vocabularySize: vocabularySize)
                if shape.count == 1 {
                    pretokenized.append(values)
                } else {
                    guard sources.count == 1 else {
                        throw CalibrationDataError.invalidTokens(
                            path: path, reason: "is N×L windows, which must be the only --data (a 1-D stream can be mixed)")
                    }
                    input.fixedWindows = (0..<shape[0]).map { Array(values[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
                }
            }
        }
        input.documents = tokenize(texts, tokenizer) + pretokenized
        return input
    }

    /// Tokenizes documents in parallel; the result is in document order whatever the scheduling.
    private static func tokenize(_ texts: [String], _ tokenizer: Tokenizer) -> [[Int]] {
        let results = LockedArray<[Int]>(count: texts.count, initial: [])
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in
            results[i] = tokenizer.encode(texts[i], addSpecialTokens: true)
        }
        return results.values
    }

    static func readText(_ path: String) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CalibrationDataError.unreadable(path: path, reason: OutputError.plainReason(error))
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw CalibrationDataError.unreadable(path: path, reason: "is not valid UTF-8 text")
        }
        return text
    }

    /// One document per non-empty line: the string member `field`, or else a `messages` list
    /// joined as `role: content` lines.
    static func readJSONL(_ path: String, field: String) throws -> [String] {
        let text = try readText(path)
        var documents: [String] = []
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            let number = index + 1
            let record: JSONValue
            do {
                record = try decoder.decode(JSONValue.self, from: Data(trimmed.utf8))
            } catch {
                throw CalibrationDataError.invalidRecord(path: path, line: number, reason: "is not valid JSON")
            }
            guard record.object != nil else {
                throw CalibrationDataError.invalidRecord(path: path, line: number, reason: "is \(record.kind), not a JSON object")
            }
            if let value = record[field] {
                guard let string = value.string else {
                    throw CalibrationDataError.invalidRecord(path: path, line: number, reason: "field '\(field)' is \(value.kind), not a string")
                }
                documents.append(string)
            } else if let messages = record["messages"] {
                documents.append(try joinMessages(messages, path: path, line: number))
            } else {
                throw CalibrationDataError.invalidRecord(
                    path: path, line: number, reason: "has no field '\(field)' and no 'messages' list (choose the field with --field)")
            }
        }
        guard !documents.isEmpty else { throw CalibrationDataError.unreadable(path: path, reason: "holds no records") }
        return documents
    }

    /// `role: content` per message, one per line; content is a string or a list of `{"text": …}` parts.
    private static func joinMessages(_ messages: JSONValue, path: String, line: Int) throws -> String {
        guard let list = messages.array else {
            throw CalibrationDataError.invalidRecord(path: path, line: line, reason: "'messages' is \(messages.kind), not a list")
        }
        return try list.enumerated().map { index, message in
            guard let role = message["role"]?.string else {
                throw CalibrationDataError.invalidRecord(path: path, line: line, reason: "messages[\(index)] has no string 'role'")
            }
            let content: String
            if let text = message["content"]?.string {
                content = text
            } else if let parts = message["content"]?.array {
                content = parts.compactMap { $0["text"]?.string }.joined()
            } else {
                throw CalibrationDataError.invalidRecord(path: path, line: line, reason: "messages[\(index)] has no 'content'")
            }
            return "\(role): \(content)"
        }.joined(separator: "\n")
    }

    /// The integer dataset `tokens`, 1-D or 2-D, every id inside the vocabulary.
    static func readTokens(_ path: String, vocabularySize: Int) throws -> (shape: [Int], values: [Int]) {
        let file: HDF5File
        do {
            file = try HDF5File.open(path)
        } catch {
            throw CalibrationDataError.unreadable(path: path, reason: error.reason)
        }
        let shape: [Int], raw: [Int64]
        do {
            (shape, raw) = try file.readIntegers("tokens")
        } catch {
            throw CalibrationDataError.invalidTokens(path: path, reason: error.reason)
        }
        guard shape.count == 1 || shape.count == 2, !raw.isEmpty else {
            throw CalibrationDataError.invalidTokens(path: path, reason: "has shape \(shape); expected [tokens] or [N, L] with no zero dimension")
        }
        if let bad = raw.firstIndex(where: { $0 < 0 || $0 >= Int64(vocabularySize) }) {
            throw CalibrationDataError.invalidTokens(
                path: path, reason: "holds id \(raw[bad]) at flat index \(bad), outside the vocabulary of \(vocabularySize)")
        }
        return (shape, raw.map { Int($0) })
    }
}

/// A fixed-size array written by concurrent workers, each to its own index.
final class LockedArray<Element>: @unchecked Sendable {
    private var storage: [Element]
    private let lock = NSLock()

    init(count: Int, initial: Element) { storage = Array(repeating: initial, count: count) }

    subscript(index: Int) -> Element {
        get { lock.withLock { storage[index] } }
        set { lock.withLock { storage[index] = newValue } }
    }

    var values: [Element] { lock.withLock { storage } }
}

import Foundation
import QuantGateOutput

/// Input text files (the evaluation text, task suites, smoke prompts) read whole, with what is wrong told
/// in words: "no such file or directory", "is a directory", "is not UTF-8 text".
enum TextFile {
    /// The UTF-8 text of `path`.
    /// - Throws: the ``EvalError`` that `fail` makes of the reason.
    static func read(_ path: String, fail: (String) -> EvalError) throws(EvalError) -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw fail(OutputError.plainReason(error)) }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("is not UTF-8 text") }
        return text
    }
}

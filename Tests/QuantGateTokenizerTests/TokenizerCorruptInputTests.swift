import Foundation
import QuantGateTestSupport
import QuantGateTokenizer
import Testing

/// Handcrafted broken tokenizer directories, one named case each, with the exact error.
@Suite("Tokenizer corrupt inputs")
struct TokenizerCorruptInputTests {
    static let file = "t/tokenizer.json"

    /// A small valid byte-level tokenizer.json with one component replaced (`"…": null` removes it).
    static func tokenizerJSON(_ replacements: [String: String] = [:]) -> String {
        var parts: [String: String] = [
            "version": #""1.0""#,
            "added_tokens": #"[{"id": 3, "content": "<s>", "special": true, "normalized": false}]"#,
            "normalizer": "null",
            "pre_tokenizer": #"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"#,
            "post_processor": "null",
            "decoder": #"{"type": "ByteLevel"}"#,
            "model": #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<s>": 3}, "merges": [["a", "b"]]}"#,
        ]
        for (key, value) in replacements { parts[key] = value }
        return "{" + parts.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }

    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let json: String
        let error: TokenizerError
    }

    static let cases: [Case] = [
        Case(description: "not JSON", json: "{\"model\": {\"type\": \"BPE\",,}}",
             error: .malformedJSON(file: file, line: 1, column: 26, reason: "expected a string key in object")),
        Case(description: "truncated", json: "{\"model\": {\"vocab\": {\"a\": 0",
             error: .malformedJSON(file: file, line: 1, column: 28, reason: "unexpected end of file in object")),
        Case(description: "error on a later line", json: "{\n  \"model\": {\n    \"vocab\": [1, 2,]\n  }\n}",
             error: .malformedJSON(file: file, line: 3, column: 20, reason: "unexpected character ']'")),
        Case(description: "top level not an object", json: "[1, 2]",
             error: .invalidField(file: file, field: "(top level)", reason: "is an array, expected an object")),
        Case(description: "unknown version", json: tokenizerJSON(["version": #""2.0""#]),
             error: .invalidField(file: file, field: "version", reason: "must be \"1.0\", got \"2.0\"")),
        Case(description: "no model", json: tokenizerJSON(["model": "null"]),
             error: .missingField(file: file, field: "model")),
        Case(description: "WordPiece model", json: tokenizerJSON(["model": #"{"type": "WordPiece", "vocab": {}}"#]),
             error: .unsupportedComponent(kind: "model", type: "WordPiece", path: "model")),
        Case(description: "Unigram model", json: tokenizerJSON(["model": #"{"type": "Unigram", "vocab": []}"#]),
             error: .unsupportedComponent(kind: "model", type: "Unigram", path: "model")),
        Case(description: "BPE with dropout", json: tokenizerJSON(["model": #"{"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}"#]),
             error: .unsupportedComponent(kind: "model", type: "BPE with dropout", path: "model.dropout")),
        Case(description: "no merges", json: tokenizerJSON(["model": #"{"type": "BPE", "vocab": {"a": 0}}"#]),
             error: .missingField(file: file, field: "model.merges")),
        Case(description: "negative id", json: tokenizerJSON(["model": #"{"type": "BPE", "vocab": {"a": -1}, "merges": []}"#]),
             error: .invalidField(file: file, field: "model.vocab.a", reason: "must be an integer in [0, 2^31), got -1")),
        Case(description: "id above the supported maximum",
             json: tokenizerJSON(["model": #"{"type": "BPE", "vocab": {"a": 20000000}, "merges": []}"#]),
             error: .invalidField(file: file, field: "model.vocab.a", reason: "is 20000000, above the supported maximum id 16777215")),
        Case(description: "nesting too deep", json: String(repeating: "[", count: 200),
             error: .malformedJSON(file: file, line: 1, column: 129, reason: "nesting deeper than 128 levels")),
        Case(description: "merge of a token not in the vocabulary",
             json: tokenizerJSON(["model": #"{"type": "BPE", "vocab": {"a": 0, "ab": 1}, "merges": [["a", "b"]]}"#]),
             error: .invalidField(file: file, field: "model.merges[0]", reason: "uses 'b', which is not in model.vocab")),
        Case(description: "merge result not in the vocabulary",
             json: tokenizerJSON(["model": #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}"#]),
             error: .invalidField(file: file, field: "model.merges[0]", reason: "makes 'ab', which is not in model.vocab")),
        Case(description: "legacy merge without a space",
             json: tokenizerJSON(["model": #"{"type": "BPE", "vocab": {"a": 0}, "merges": ["ab"]}"#]),
             error: .invalidField(file: file, field: "model.merges[0]", reason: "must be two tokens separated by one space, got \"ab\"")),
        Case(description: "unk_token not in the vocabulary",
             json: tokenizerJSON(["model": #"{"type": "BPE", "unk_token": "<unk>", "vocab": {"a": 0}, "merges": []}"#]),
             error: .invalidField(file: file, field: "model.unk_token", reason: "names '<unk>', which is not in model.vocab")),
        Case(description: "Whitespace pre-tokenizer", json: tokenizerJSON(["pre_tokenizer": #"{"type": "Whitespace"}"#]),
             error: .unsupportedComponent(kind: "pre_tokenizer", type: "Whitespace", path: "pre_tokenizer")),
        Case(description: "Split with an unknown regex",
             json: tokenizerJSON(["pre_tokenizer": #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Isolated", "invert": false}]}"#]),
             error: .unsupportedComponent(kind: "pre_tokenizer", type: "Split with the regex \\d+", path: "pre_tokenizer.pretokenizers[0].pattern.Regex")),
        Case(description: "ByteLevel before Split",
             json: tokenizerJSON(["pre_tokenizer": #"{"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "Metaspace", "replacement": "_"}]}"#]),
             error: .unsupportedComponent(kind: "pre_tokenizer", type: "ByteLevel before another pre-tokenizer", path: "pre_tokenizer")),
        Case(description: "Metaspace replacement of two characters",
             json: tokenizerJSON(["pre_tokenizer": #"{"type": "Metaspace", "replacement": "__"}"#]),
             error: .invalidField(file: file, field: "pre_tokenizer.replacement", reason: "must be a single character, got \"__\"")),
        Case(description: "Lowercase normalizer",
             json: tokenizerJSON(["normalizer": #"{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]}"#]),
             error: .unsupportedComponent(kind: "normalizer", type: "Lowercase", path: "normalizer.normalizers[1]")),
        Case(description: "Replace with a regex",
             json: tokenizerJSON(["normalizer": #"{"type": "Replace", "pattern": {"Regex": " +"}, "content": " "}"#]),
             error: .unsupportedComponent(kind: "normalizer", type: "Replace with a Regex pattern", path: "normalizer.pattern")),
        Case(description: "normalizer without type", json: tokenizerJSON(["normalizer": #"{"prepend": "_"}"#]),
             error: .missingField(file: file, field: "normalizer.type")),
        Case(description: "WordPiece decoder", json: tokenizerJSON(["decoder": #"{"type": "WordPiece", "prefix": "~~"}"#]),
             error: .unsupportedComponent(kind: "decoder", type: "WordPiece", path: "decoder")),
        Case(description: "unknown post-processor", json: tokenizerJSON(["post_processor": #"{"type": "Fancy"}"#]),
             error: .unsupportedComponent(kind: "post_processor", type: "Fancy", path: "post_processor")),
        Case(description: "template naming an undefined special token",
             json: tokenizerJSON(["post_processor": #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}}"#]),
             error: .invalidField(file: file, field: "post_processor.single[0].SpecialToken.id",
                                  reason: "names '<bos>', which is not in post_processor.special_tokens")),
        Case(description: "added token without content", json: tokenizerJSON(["added_tokens": #"[{"id": 3, "special": true}]"#]),
             error: .missingField(file: file, field: "added_tokens[0].content")),
        Case(description: "flag that is not a boolean",
             json: tokenizerJSON(["added_tokens": #"[{"id": 3, "content": "<s>", "lstrip": 1}]"#]),
             error: .invalidField(file: file, field: "added_tokens[0].lstrip", reason: "must be true or false, got 1")),
        Case(description: "lone surrogate escape", json: #"{"model": "\ud800x"}"#,
             error: .malformedJSON(file: file, line: 1, column: 18, reason: "lone leading surrogate in \\u escape")),
    ]

    @Test("broken tokenizer.json gives the exact error", arguments: cases)
    func rejects(_ broken: Case) {
        #expect(throws: broken.error) {
            try Tokenizer(tokenizerJSON: Array(broken.json.utf8), file: Self.file)
        }
    }

    @Test("the valid base of the broken cases loads and encodes")
    func baseIsValid() throws {
        let tokenizer = try Tokenizer(tokenizerJSON: Array(Self.tokenizerJSON().utf8), file: Self.file)
        #expect(tokenizer.encode("ab<s>ba") == [2, 3, 1, 0])
        #expect(tokenizer.decode([2, 3, 1, 0]) == "ab<s>ba")
        #expect(tokenizer.vocabularySize == 4)
    }

    @Test("a directory without tokenizer.json")
    func missingFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tokenizer.json").path
        #expect(throws: TokenizerError.missingFile(path: path)) { try Tokenizer(directory: directory.path) }
        #expect(throws: TokenizerError.missingFile(path: "/nonexistent/quantgate/tokenizer.json")) {
            try Tokenizer(directory: "/nonexistent/quantgate")
        }
    }

    @Test("a malformed tokenizer_config.json is named in the error")
    func malformedConfiguration() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(Self.tokenizerJSON().utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        let config = directory.appendingPathComponent("tokenizer_config.json")
        try Data(#"{"bos_token": 7}"#.utf8).write(to: config)
        #expect(throws: TokenizerError.invalidField(file: config.path, field: "bos_token",
                                                    reason: "must be a string or an object with 'content', got 7")) {
            try Tokenizer(directory: directory.path)
        }
        try Data("{\"add_bos_token\": tru}".utf8).write(to: config)
        #expect(throws: TokenizerError.malformedJSON(file: config.path, line: 1, column: 19, reason: "invalid literal (expected true)")) {
            try Tokenizer(directory: directory.path)
        }
    }

    @Test("error descriptions name the file, the field and the supported types")
    func descriptions() {
        #expect(TokenizerError.unsupportedComponent(kind: "model", type: "Unigram", path: "model").description
            == "tokenizer.json: model: unsupported model type 'Unigram' (supported: BPE (no dropout, no continuing_subword_prefix or end_of_word_suffix))")
        #expect(TokenizerError.missingField(file: "m/tokenizer.json", field: "model.merges").description
            == "m/tokenizer.json: missing field 'model.merges'")
        #expect(TokenizerError.malformedJSON(file: "x.json", line: 3, column: 20, reason: "unexpected character ']'").description
            == "x.json: not valid JSON at line 3, column 20: unexpected character ']'")
    }

    @Test("truncated copies of a real tokenizer.json are rejected, never crash")
    func truncations() throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.root.appendingPathComponent("tokenizers/sp-bpe/tokenizer.json")))
        var generator = SplitMix64(seed: 0x7A11)
        for _ in 0..<40 {
            let cut = Int(generator.next() % UInt64(bytes.count))
            #expect(throws: TokenizerError.self) { try Tokenizer(tokenizerJSON: Array(bytes[..<cut])) }
        }
    }
}

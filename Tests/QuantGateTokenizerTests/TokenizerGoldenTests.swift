import Foundation
import QuantGateTensors
import QuantGateTestSupport
import QuantGateTokenizer
import Testing

/// Token ids and decodes against the Python `tokenizers` library 0.23.3, on the ≥ 1 MB golden text
/// (`python3 Tools/make_golden_tokenizer.py`, after `python3 Tools/make_fixture_tokenizers.py`;
/// see Tests/Fixtures/PROVENANCE.md).
@Suite("Tokenizer golden ids")
struct TokenizerGoldenTests {
    static let fixtures = ["bard-5m", "sp-bpe", "llama3-bpe"]
    static let variants = [
        "sp-metaspace-first", "sp-metaspace-always-nosplit", "sp-metaspace-never", "sp-unk-fused", "sp-unk-unfused",
        "sp-nfkc", "bard-prefix-space", "bard-legacy-merges", "bard-roberta", "bard-no-decoder", "llama3-with-merges",
        "llama3-qwen2-digits", "llama3-nfc", "llama3-nfd",
    ]

    /// A readable, bounded rendering of a segment for failure messages.
    static func show(_ text: String, limit: Int = 400) -> String {
        let escaped = text.unicodeScalars.prefix(limit).map { scalar -> String in
            switch scalar.value {
            case 0x0A: "\\n"
            case 0x0D: "\\r"
            case 0x09: "\\t"
            case 0x20...0x7E: String(scalar)
            default: scalar.properties.generalCategory == .control || scalar.properties.isWhitespace
                ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            }
        }.joined()
        return "\"\(escaped)\"" + (text.unicodeScalars.count > limit ? "…" : "")
    }

    /// Encodes every segment of a run and fails at the first one whose ids differ, with its text,
    /// our ids and (when stored) the reference ids.
    func check(runName: String) throws {
        let golden = try TokenizerGolden.load()
        let run = try #require(golden.run(named: runName), "no run \(runName) in tokenizer_golden.json")
        let tokenizer = try golden.tokenizer(for: run)
        var total = 0
        for (position, segment) in run.segments.enumerated() {
            let text = golden.segmentText(segment)
            let ids = tokenizer.encode(text, addSpecialTokens: true)
            total += ids.count
            if ids.count == run.counts[position] && TokenizerGolden.hash(ids: ids) == run.hashes[position] { continue }
            var message = "\(runName): segment \(segment) (bytes \(golden.segments[segment])) differs from tokenizers.\n"
            message += "text: \(Self.show(text))\nours (\(ids.count) ids): \(ids.prefix(200))\n"
            if let expected = run.storedIDs[position] {
                let first = zip(ids, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(ids.count, expected.count)
                message += "tokenizers (\(expected.count) ids): \(expected.prefix(200))\nfirst difference at id \(first)"
            } else {
                message += "tokenizers gave \(run.counts[position]) ids (not stored; print them with: python3 -c \"import json;"
                message += "from tokenizers import Tokenizer;g=json.load(open('Tests/Fixtures/golden/tokenizer_golden.json'));"
                message += "a,b=g['segments'][\(segment)];t=open('Tests/Fixtures/golden/tokenizer_text.txt','rb').read()[a:b].decode();"
                message += "print(Tokenizer.from_file('<fixture>/tokenizer.json').encode(t).ids)\")"
            }
            Issue.record(Comment(rawValue: message))
            return
        }
        #expect(total == run.counts.reduce(0, +))
    }

    @Test("ids identical to tokenizers over the whole golden text", arguments: fixtures)
    func fixtureIDs(fixture: String) throws {
        try check(runName: fixture)
    }

    @Test("ids identical to tokenizers for tokenizer.json variants", arguments: variants)
    func variantIDs(variant: String) throws {
        try check(runName: variant)
    }

    @Test("the golden text is over 1 MB and covers every segment")
    func textCoverage() throws {
        let golden = try TokenizerGolden.load()
        #expect(golden.text.count >= 1_000_000)
        #expect(golden.segments.first?.lowerBound == 0)
        #expect(golden.segments.last?.upperBound == golden.text.count)
        #expect(zip(golden.segments, golden.segments.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(golden.segments.count >= 2000)
    }

    @Test("decode equals tokenizers' decode, with and without skipping special tokens",
          arguments: fixtures + variants)
    func decodes(run runName: String) throws {
        let golden = try TokenizerGolden.load()
        let run = try #require(golden.run(named: runName))
        let tokenizer = try golden.tokenizer(for: run)
        let cases = golden.decodes.filter { $0.run == runName }
        #expect(!cases.isEmpty)
        for decode in cases {
            let text = tokenizer.decode(decode.ids, skipSpecialTokens: false)
            #expect(text == decode.text, "\(runName) ids \(decode.ids.prefix(40)): \(Self.show(text)) != \(Self.show(decode.text))")
            let skipped = tokenizer.decode(decode.ids, skipSpecialTokens: true)
            #expect(skipped == decode.textSkippingSpecial,
                    "\(runName) ids \(decode.ids.prefix(40)) skipping special: \(Self.show(skipped)) != \(Self.show(decode.textSkippingSpecial))")
        }
    }

    @Test("vocabulary size and token lookups equal tokenizers'", arguments: fixtures)
    func vocabulary(fixture: String) throws {
        let golden = try TokenizerGolden.load()
        let facts = try #require(golden.vocabulary[fixture])
        let directory = try #require(TokenizerGolden.fixtureDirectories[fixture])
        let tokenizer = try Tokenizer(directory: directory.path)
        #expect(tokenizer.vocabularySize == facts["vocab_size"]?.int)
        for (id, token) in facts["id_to_token"]?.object ?? [:] {
            #expect(tokenizer.token(forID: Int(id) ?? -1) == token.string, "id \(id)")
        }
        for (token, id) in facts["token_to_id"]?.object ?? [:] {
            #expect(tokenizer.id(forToken: token) == id.int, "token \(token)")
        }
    }
}

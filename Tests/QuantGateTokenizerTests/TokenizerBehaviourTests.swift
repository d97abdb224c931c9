import Foundation
import QuantGateTensors
import QuantGateTestSupport
import QuantGateTokenizer
import Testing

/// Added tokens, special tokens, round trips and the public API, on the three fixture tokenizers.
@Suite("Tokenizer behaviour")
struct TokenizerBehaviourTests {
    static func load(_ fixture: String) throws -> Tokenizer {
        let directory = try #require(TokenizerGolden.fixtureDirectories[fixture])
        return try Tokenizer(directory: directory.path)
    }

    struct Case: CustomStringConvertible, Sendable {
        var fixture: String
        var text: String
        var withSpecial: [Int]
        var withoutSpecial: [Int]
        var description: String { "\(fixture) \(TokenizerGoldenTests.show(text))" }
    }

    /// Recorded from tokenizers 0.23.3: `Tokenizer.from_file(…).encode(text, add_special_tokens=…).ids`.
    static let addedTokenCases: [Case] = [
        Case(fixture: "bard-5m", text: "<s>", withSpecial: [0, 0], withoutSpecial: [0]),
        Case(fixture: "bard-5m", text: "a<s>b", withSpecial: [0, 66, 0, 67], withoutSpecial: [66, 0, 67]),
        Case(fixture: "bard-5m", text: "x </s> y", withSpecial: [0, 89, 222, 1, 284], withoutSpecial: [89, 222, 1, 284]),
        Case(fixture: "bard-5m", text: "<s><s></s>", withSpecial: [0, 0, 0, 1], withoutSpecial: [0, 0, 1]),
        Case(fixture: "bard-5m", text: "<s", withSpecial: [0, 29, 84], withoutSpecial: [29, 84]),
        Case(fixture: "bard-5m", text: "Hamlet<s>'s", withSpecial: [0, 41, 388, 2123, 0, 327], withoutSpecial: [41, 388, 2123, 0, 327]),
        Case(fixture: "bard-5m", text: "  <s>  ", withSpecial: [0, 309, 0, 309], withoutSpecial: [309, 0, 309]),
        Case(fixture: "bard-5m", text: "", withSpecial: [0], withoutSpecial: []),
        Case(fixture: "sp-bpe", text: "<s>", withSpecial: [1, 1], withoutSpecial: [1]),
        Case(fixture: "sp-bpe", text: "a<s>b", withSpecial: [1, 329, 1, 340], withoutSpecial: [329, 1, 340]),
        // "<mask>" has lstrip: the space before it is part of the token.
        Case(fixture: "sp-bpe", text: "Hello <mask> world", withSpecial: [1, 430, 503, 314, 1500, 326, 1027],
             withoutSpecial: [430, 503, 314, 1500, 326, 1027]),
        Case(fixture: "sp-bpe", text: "Hello<mask>", withSpecial: [1, 430, 503, 314, 1500], withoutSpecial: [430, 503, 314, 1500]),
        // "[SW]" has single_word: not matched inside a word.
        Case(fixture: "sp-bpe", text: "x [SW] y", withSpecial: [1, 326, 323, 326, 1501, 326, 351],
             withoutSpecial: [326, 323, 326, 1501, 326, 351]),
        Case(fixture: "sp-bpe", text: "x[SW]y", withSpecial: [1, 326, 323, 298, 290, 294, 299, 324],
             withoutSpecial: [326, 323, 298, 290, 294, 299, 324]),
        Case(fixture: "sp-bpe", text: "[SW]", withSpecial: [1, 1501], withoutSpecial: [1501]),
        // "Hamlet" is normalized: matched as "▁Hamlet" in the normalized text only.
        Case(fixture: "sp-bpe", text: "Hamlet", withSpecial: [1, 1502], withoutSpecial: [1502]),
        Case(fixture: "sp-bpe", text: "OHamlet", withSpecial: [1, 389, 279, 485, 311, 384], withoutSpecial: [389, 279, 485, 311, 384]),
        Case(fixture: "sp-bpe", text: "the Hamlet's", withSpecial: [1, 338, 1502, 413], withoutSpecial: [338, 1502, 413]),
        Case(fixture: "sp-bpe", text: "", withSpecial: [1], withoutSpecial: []),
        Case(fixture: "sp-bpe", text: " ", withSpecial: [1, 326, 326], withoutSpecial: [326, 326]),
        Case(fixture: "sp-bpe", text: "日", withSpecial: [1, 326, 233, 154, 168], withoutSpecial: [326, 233, 154, 168]),
        Case(fixture: "llama3-bpe", text: "<|begin_of_text|>hi", withSpecial: [2000, 2000, 71, 72], withoutSpecial: [2000, 71, 72]),
        Case(fixture: "llama3-bpe", text: "a<|eot_id|>b", withSpecial: [2000, 64, 2004, 65], withoutSpecial: [64, 2004, 65]),
        // "<rs>" has rstrip: following whitespace is part of the token.
        Case(fixture: "llama3-bpe", text: "<rs>   x", withSpecial: [2000, 2005, 87], withoutSpecial: [2005, 87]),
        Case(fixture: "llama3-bpe", text: "<rs>\n\ny", withSpecial: [2000, 2005, 88], withoutSpecial: [2005, 88]),
        // " fn(" starts with a space; after "<rs>" the two matches overlap and both count.
        Case(fixture: "llama3-bpe", text: "x fn(y", withSpecial: [2000, 87, 2006, 88], withoutSpecial: [87, 2006, 88]),
        Case(fixture: "llama3-bpe", text: "x  fn(y", withSpecial: [2000, 87, 220, 2006, 88], withoutSpecial: [87, 220, 2006, 88]),
        Case(fixture: "llama3-bpe", text: "fn(", withSpecial: [2000, 69, 77, 7], withoutSpecial: [69, 77, 7]),
        Case(fixture: "llama3-bpe", text: "<rs> fn(", withSpecial: [2000, 2005, 2006], withoutSpecial: [2005, 2006]),
        Case(fixture: "llama3-bpe", text: "", withSpecial: [2000], withoutSpecial: []),
        // (?i) contractions, U+017F LONG S folding to 's'.
        Case(fixture: "llama3-bpe", text: "'S 'll 'ſ", withSpecial: [2000, 1651, 499, 271, 499, 129, 123],
             withoutSpecial: [1651, 499, 271, 499, 129, 123]),
    ]

    @Test("added and special tokens are matched before splitting, with their flags", arguments: addedTokenCases)
    func addedTokens(_ testCase: Case) throws {
        let tokenizer = try Self.load(testCase.fixture)
        #expect(tokenizer.encode(testCase.text) == testCase.withSpecial)
        #expect(tokenizer.encode(testCase.text, addSpecialTokens: false) == testCase.withoutSpecial)
    }

    /// Random text from a seeded generator: ASCII, whitespace of every kind, letters and digits of
    /// other scripts, emoji pieces, combining marks, special-token strings, and random scalars.
    static func randomText(_ generator: inout SplitMix64, length: Int) -> String {
        let pieces = ["<s>", "</s>", "<s", "s>", " ", "  ", "\t", "\n", "\r\n", "\r", "\u{85}", "\u{A0}", "\u{3000}", "\u{2028}",
                      "'s", "'LL", "'ſ", "123", "4567", "日本", "é", "e\u{301}", "👍🏽", "👨‍👩‍👧", "\u{200D}", "Ω", "ж", "ſ",
                      "\u{C5C}", "\u{10940}", "\u{0}", "\u{1F}", "the", " Hamlet", "?!", "...", "٣", "Ⅻ"]
        var text = String.UnicodeScalarView()
        for _ in 0..<length {
            let choice = generator.next() % 10
            if choice < 6 {
                let piece = pieces[Int(generator.next() % UInt64(pieces.count))]
                text.append(contentsOf: piece.unicodeScalars)
            } else if choice < 8 {
                text.append(Unicode.Scalar(UInt8(0x20 + generator.next() % 95)))
            } else {
                // Any scalar, any plane (surrogates skipped).
                let value = UInt32(generator.next() % 0x110000)
                if let scalar = Unicode.Scalar(value) { text.append(scalar) }
            }
        }
        return String(text)
    }

    @Test("special tokens split the text: encode(a + \"<s>\" + b) == encode(a) + [<s>] + encode(b)")
    func specialTokensSplitBeforePreTokenizing() throws {
        let tokenizer = try Self.load("bard-5m")
        let seed: UInt64 = 0x70C3_5EED
        var generator = SplitMix64(seed: seed)
        for trial in 0..<300 {
            let a = Self.randomText(&generator, length: Int(generator.next() % 12))
                .replacingOccurrences(of: "<s>", with: "").replacingOccurrences(of: "</s>", with: "")
            let b = Self.randomText(&generator, length: Int(generator.next() % 12))
                .replacingOccurrences(of: "<s>", with: "").replacingOccurrences(of: "</s>", with: "")
            // Joining could create a special token across the boundary ("<s" + "<s>" + ...); skip those.
            guard !(a + "x" + b).contains("<s>"), !(a + "x" + b).contains("</s>") else { continue }
            let joined = tokenizer.encode(a + "<s>" + b, addSpecialTokens: false)
            let separate = tokenizer.encode(a, addSpecialTokens: false) + [0] + tokenizer.encode(b, addSpecialTokens: false)
            #expect(joined == separate, "seed \(seed) trial \(trial): \(TokenizerGoldenTests.show(a)) | \(TokenizerGoldenTests.show(b))")
        }
    }

    @Test("byte-level tokenizers without a normalizer round-trip: decode(encode(x)) == x",
          arguments: ["bard-5m", "llama3-bpe"])
    func roundTrip(fixture: String) throws {
        let tokenizer = try Self.load(fixture)
        let golden = try TokenizerGolden.load()
        // Every 4th golden segment (the golden test encodes all of them) …
        for segment in stride(from: 0, to: golden.segments.count, by: 4) {
            var text = golden.segmentText(segment)
            // "<rs>" strips the whitespace after it, by design; leave it out.
            text = text.replacingOccurrences(of: "<rs>", with: "<r s>")
            let decoded = tokenizer.decode(tokenizer.encode(text, addSpecialTokens: false))
            #expect(decoded == text, "\(fixture) segment \(segment): \(TokenizerGoldenTests.show(text))")
            if decoded != text { return }
        }
        // … and seeded random text.
        let seed: UInt64 = 0x0B17_E5EE
        var generator = SplitMix64(seed: seed)
        for trial in 0..<300 {
            let text = Self.randomText(&generator, length: Int(generator.next() % 40)).replacingOccurrences(of: "<rs>", with: "")
            let decoded = tokenizer.decode(tokenizer.encode(text, addSpecialTokens: false))
            #expect(decoded == text, "\(fixture) seed \(seed) trial \(trial): \(TokenizerGoldenTests.show(text))")
        }
    }

    @Test("the SentencePiece-style decode drops the prepended ▁ and maps byte tokens back")
    func sentencePieceDecode() throws {
        let tokenizer = try Self.load("sp-bpe")
        let seed: UInt64 = 0x5BB9_DEC0
        var generator = SplitMix64(seed: seed)
        for trial in 0..<200 {
            // Text whose normalization is reversible: no "▁" and not starting with a space
            // (decode strips one leading space, which Prepend("▁") added).
            var text = Self.randomText(&generator, length: Int(generator.next() % 30))
            text = text.replacingOccurrences(of: "▁", with: "_").replacingOccurrences(of: "<mask>", with: "")
            while text.unicodeScalars.first == " " { text.unicodeScalars.removeFirst() }
            let ids = tokenizer.encode(text, addSpecialTokens: true)
            let decoded = tokenizer.decode(ids, skipSpecialTokens: true)
            let withoutSpecial = text.replacingOccurrences(of: "</s>", with: "").replacingOccurrences(of: "<s>", with: "")
                .replacingOccurrences(of: "<unk>", with: "")
            // Special tokens are skipped, but the pieces around them were each prefixed with "▁".
            if text == withoutSpecial && !text.contains("[SW]") {
                #expect(decoded == text, "seed \(seed) trial \(trial): \(TokenizerGoldenTests.show(text))")
            }
        }
    }

    @Test("BOS, EOS and vocabulary facts of the fixtures")
    func facts() throws {
        let bard = try Self.load("bard-5m")
        #expect(bard.bosTokenID == 0 && bard.eosTokenID == 1 && bard.addsBOS && !bard.addsEOS)
        #expect(bard.vocabularySize == 4096)
        #expect(bard.token(forID: 0) == "<s>" && bard.id(forToken: "</s>") == 1)
        #expect(bard.token(forID: -1) == nil && bard.token(forID: 4096) == nil && bard.id(forToken: "no such token") == nil)
        let sp = try Self.load("sp-bpe")
        #expect(sp.bosTokenID == 1 && sp.eosTokenID == 2 && sp.addsBOS && !sp.addsEOS)
        #expect(sp.vocabularySize == 1503)
        #expect(sp.token(forID: 3) == "<0x00>" && sp.token(forID: 1502) == "▁Hamlet" && sp.id(forToken: "Hamlet") == 1502)
        #expect(sp.configuration.addBOSToken == true)
        let llama = try Self.load("llama3-bpe")
        #expect(llama.bosTokenID == 2000 && llama.eosTokenID == 2001 && llama.addsBOS && !llama.addsEOS)
        #expect(llama.vocabularySize == 2007)
    }

    /// A copy of bard-5m's tokenizer.json with its post-processor removed, and a tokenizer_config.json.
    static func directoryWithoutPostProcessor(configuration: String?) throws -> URL {
        let directory = try Fixtures.temporaryDirectory()  // the caller removes it
        let source = try Data(contentsOf: Fixtures.exampleModel.appendingPathComponent("tokenizer.json"))
        var json = try JSONDecoder().decode(JSONValue.self, from: source)
        json.set(path: ["post_processor"], to: .null)
        try JSONEncoder().encode(json).write(to: directory.appendingPathComponent("tokenizer.json"))
        if let configuration {
            try Data(configuration.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        }
        return directory
    }

    @Test("without a post-processor, tokenizer_config.json's add_bos_token and add_eos_token apply")
    func configurationFlags() throws {
        let plain = try Self.directoryWithoutPostProcessor(configuration: nil)
        defer { try? FileManager.default.removeItem(at: plain) }
        let noConfig = try Tokenizer(directory: plain.path)
        #expect(noConfig.bosTokenID == nil && !noConfig.addsBOS)
        #expect(noConfig.encode("to be") == noConfig.encode("to be", addSpecialTokens: false))

        let both = try Self.directoryWithoutPostProcessor(configuration: """
            {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "add_bos_token": true, "add_eos_token": true}
            """)
        defer { try? FileManager.default.removeItem(at: both) }
        let tokenizer = try Tokenizer(directory: both.path)
        #expect(tokenizer.addsBOS && tokenizer.addsEOS)
        #expect(tokenizer.encode("to be") == [0] + tokenizer.encode("to be", addSpecialTokens: false) + [1])

        // With a post-processor, it decides (as in transformers 5): add_bos_token false changes nothing.
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: Fixtures.exampleModel.appendingPathComponent("tokenizer.json"),
                                         to: directory.appendingPathComponent("tokenizer.json"))
        try Data(#"{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": false}"#.utf8)
            .write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let templated = try Tokenizer(directory: directory.path)
        #expect(templated.addsBOS && templated.encode("to be").first == 0)
    }

    @Test("a Tokenizer is usable from many threads at once")
    func concurrentUse() async throws {
        let tokenizer = try Self.load("llama3-bpe")
        let golden = try TokenizerGolden.load()
        let texts = (0..<64).map { golden.segmentText($0 * 7 % golden.segments.count) }
        let expected = texts.map { tokenizer.encode($0) }
        let results = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (i, text) in texts.enumerated() { group.addTask { (i, tokenizer.encode(text)) } }
            var results = [[Int]](repeating: [], count: texts.count)
            for await (i, ids) in group { results[i] = ids }
            return results
        }
        #expect(results == expected)
    }
}

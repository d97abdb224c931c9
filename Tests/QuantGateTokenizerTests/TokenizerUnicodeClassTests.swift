import Foundation
import QuantGateTestSupport
@testable import QuantGateTokenizer
import Testing

/// The split patterns' character classes against Oniguruma's, as `tokenizers` 0.23.3 uses it
/// (`Tests/Fixtures/golden/tokenizer_unicode_classes.json`, from `python3 Tools/make_golden_tokenizer.py`).
@Suite("Tokenizer Unicode classes")
struct TokenizerUnicodeClassTests {
    struct Classes: Decodable {
        var classes: [String: [[UInt32]]]
    }

    @Test("\\p{L}, \\p{N} and \\s agree with Oniguruma on every scalar")
    func classesAgreeWithOniguruma() throws {
        let data = try Data(contentsOf: Fixtures.golden("tokenizer_unicode_classes.json"))
        let table = try JSONDecoder().decode(Classes.self, from: data).classes
        var expected = [UInt8](repeating: UnicodeClasses.other, count: 0x110000)
        for (name, value) in [("L", UnicodeClasses.letter), ("N", UnicodeClasses.number), ("s", UnicodeClasses.whitespace)] {
            for range in try #require(table[name]) {
                for scalar in range[0]...range[1] { expected[Int(scalar)] = value }
            }
        }
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 where !(0xD800...0xDFFF).contains(value) {
            let got = UnicodeClasses.classOf(value)
            if got != expected[Int(value)] && mismatches.count < 20 {
                mismatches.append("U+\(String(value, radix: 16, uppercase: true)): ours \(got), Oniguruma \(expected[Int(value)])")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("Unicode 17 letters are unassigned to the reference engines")
    func newLettersAreOther() {
        #expect(UnicodeClasses.classOf(0x0C5C) == UnicodeClasses.other)  // TELUGU LETTER NAKAARA POLLU (17.0)
        #expect(UnicodeClasses.classOf(0x0C1C) == UnicodeClasses.letter)  // TELUGU LETTER JA (1.1)
        #expect(!UnicodeClasses.isWordCharacter(0x10940))
        #expect(UnicodeClasses.isWordCharacter(0x0301) && UnicodeClasses.isWordCharacter(0x200D) && !UnicodeClasses.isWordCharacter(0x2D))
    }
}

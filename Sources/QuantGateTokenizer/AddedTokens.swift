/// One entry of tokenizer.json's `added_tokens`.
struct AddedToken: Equatable, Sendable {
    /// The token text.
    var content: String
    /// Matched only when not inside a word (`\w` on neither side).
    var singleWord: Bool
    /// Whitespace before the token is absorbed into it.
    var leftStrip: Bool
    /// Whitespace after the token is absorbed into it.
    var rightStrip: Bool
    /// Matched in the normalized text (as its own normalized form) rather than in the raw text.
    var normalized: Bool
    /// A special token (skipped by `decode(_:skipSpecialTokens: true)`).
    var special: Bool
}

/// `tokenizers`' `AddedVocabulary`: added and special tokens, matched in the text before the
/// pre-tokenizer splits it.
///
/// Ids are assigned as `AddedVocabulary::add_tokens` does when a tokenizer.json is loaded (the
/// `id` fields in the file are not used): a token already in the model's vocabulary (or added
/// before) keeps that id; any other gets the next id after the model's vocabulary size.
///
/// Matching (`find_matches`): tokens with `normalized: false` are found in the raw text; the
/// pieces between them are normalized, and tokens with `normalized: true` are found there, as
/// their own normalized form. Both passes take leftmost-longest matches; then a `single_word`
/// match next to a word character (`\w`) is dropped, `lstrip` extends a match left over
/// whitespace (not past the previous match) and `rstrip` extends it right over whitespace.
final class AddedVocabulary: Sendable {
    /// Content → id.
    let idsByContent: [String: Int]
    /// Id → token.
    let tokensByID: [Int: AddedToken]
    /// Id → the string `decode` and `token(forID:)` give (the normalized form for normalized tokens).
    let stringsByID: [Int: String]
    let specialContents: Set<String>
    private let rawMatcher: TokenMatcher?
    private let normalizedMatcher: TokenMatcher?

    var hasNormalizedTokens: Bool { normalizedMatcher != nil }

    init(tokens: [AddedToken], vocabulary: [String: Int], normalizer: Normalizer?) {
        var idsByContent: [String: Int] = [:]
        var tokensByID: [Int: AddedToken] = [:]
        var stringsByID: [Int: String] = [:]
        var specialContents = Set<String>()
        var nextID = vocabulary.count
        for token in tokens where !token.content.isEmpty {
            if let id = idsByContent[token.content], tokensByID[id] == token { continue }
            let id: Int
            if let existing = idsByContent[token.content] ?? vocabulary[token.content] {
                id = existing
            } else {
                id = nextID
                nextID += 1
            }
            stringsByID[id] = token.content
            if token.normalized, let normalizer {
                let normalized = String(decoding: normalizer.apply(Array(token.content.utf8)), as: UTF8.self)
                stringsByID[id] = normalized
            }
            idsByContent[token.content] = id
            if token.special { specialContents.insert(token.content) }
            tokensByID[id] = token
        }
        var raw: [(pattern: [UInt8], id: Int)] = []
        var normalized: [(pattern: [UInt8], id: Int)] = []
        for (id, token) in tokensByID.sorted(by: { $0.key < $1.key }) {
            if token.normalized {
                normalized.append((Array((stringsByID[id] ?? token.content).utf8), id))
            } else {
                raw.append((Array(token.content.utf8), id))
            }
        }
        self.idsByContent = idsByContent
        self.tokensByID = tokensByID
        self.stringsByID = stringsByID
        self.specialContents = specialContents
        rawMatcher = raw.isEmpty ? nil : TokenMatcher(raw)
        normalizedMatcher = normalized.isEmpty ? nil : TokenMatcher(normalized)
    }

    /// Splits `text` at the tokens of one pass (`normalized: false` for raw text, `true` for
    /// normalized pieces). `emit` receives each piece in order with the token id, or nil for
    /// text between tokens. Pieces may be empty; ranges may overlap where an `rstrip` reaches
    /// into the next match, exactly as in `tokenizers`.
    func split(_ text: UnsafeBufferPointer<UInt8>, normalized: Bool, emit: (Range<Int>, Int?) -> Void) {
        guard let matcher = normalized ? normalizedMatcher : rawMatcher, !text.isEmpty else {
            emit(0..<text.count, nil)
            return
        }
        var startOffset = 0
        var position = 0
        while let (matchStart, matchEnd, id) = matcher.nextMatch(in: text, from: position) {
            position = matchEnd
            guard let token = tokensByID[id] else { continue }
            var start = matchStart
            var stop = matchEnd
            if token.singleWord {
                let spaceBefore = start == 0 || !Self.endsWithWordCharacter(text, before: start)
                let spaceAfter = stop == text.count || !Self.startsWithWordCharacter(text, at: stop)
                if !spaceBefore || !spaceAfter { continue }
            }
            if token.leftStrip {
                start = max(Self.whitespaceRunStart(text, before: start), startOffset)
            }
            if token.rightStrip {
                stop = Self.whitespaceRunEnd(text, from: stop)
            }
            if startOffset < start { emit(startOffset..<start, nil) }
            emit(start..<stop, id)
            startOffset = stop
        }
        if startOffset != text.count { emit(startOffset..<text.count, nil) }
    }

    /// The start of the scalar that ends just before `index`.
    private static func previousScalarStart(_ text: UnsafeBufferPointer<UInt8>, before index: Int) -> Int {
        var i = index - 1
        while i > 0, text[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }

    private static func endsWithWordCharacter(_ text: UnsafeBufferPointer<UInt8>, before index: Int) -> Bool {
        let start = previousScalarStart(text, before: index)
        return UnicodeClasses.isWordCharacter(UTF8Scalars.decode(text, at: start).value)
    }

    private static func startsWithWordCharacter(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        UnicodeClasses.isWordCharacter(UTF8Scalars.decode(text, at: index).value)
    }

    /// Where the whitespace run that ends at `index` starts (`\s*$` on the text before it).
    private static func whitespaceRunStart(_ text: UnsafeBufferPointer<UInt8>, before index: Int) -> Int {
        var start = index
        while start > 0 {
            let previous = previousScalarStart(text, before: start)
            guard UnicodeClasses.isWhitespace(UTF8Scalars.decode(text, at: previous).value) else { break }
            start = previous
        }
        return start
    }

    /// Where the whitespace run that starts at `index` ends (`^\s*` on the text after it).
    private static func whitespaceRunEnd(_ text: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
        var end = index
        while end < text.count {
            let (value, length) = UTF8Scalars.decode(text, at: end)
            guard UnicodeClasses.isWhitespace(value) else { break }
            end += length
        }
        return end
    }
}

/// Leftmost-longest multi-pattern matching over bytes (a byte trie walked from each position;
/// added-token lists are short and most positions fail on the first byte).
struct TokenMatcher: Sendable {
    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var id: Int? = nil
    }

    private var nodes: [Node] = [Node()]
    private var firstBytes = [Bool](repeating: false, count: 256)

    init(_ patterns: [(pattern: [UInt8], id: Int)]) {
        for (pattern, id) in patterns where !pattern.isEmpty {
            var node = 0
            for byte in pattern {
                if let child = nodes[node].children[byte] {
                    node = Int(child)
                } else {
                    nodes.append(Node())
                    nodes[node].children[byte] = Int32(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            if nodes[node].id == nil { nodes[node].id = id }
            firstBytes[Int(pattern[0])] = true
        }
    }

    /// The leftmost match at or after `from`, the longest one there: (start, end, id).
    func nextMatch(in text: UnsafeBufferPointer<UInt8>, from: Int) -> (Int, Int, Int)? {
        var i = from
        while i < text.count {
            if firstBytes[Int(text[i])] {
                var node = 0
                var best: (Int, Int)? = nil
                var j = i
                while j < text.count, let child = nodes[node].children[text[j]] {
                    node = Int(child)
                    j += 1
                    if let id = nodes[node].id { best = (j, id) }
                }
                if let (end, id) = best { return (i, end, id) }
            }
            i += 1
        }
        return nil
    }
}

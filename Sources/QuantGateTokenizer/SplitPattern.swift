/// The pre-tokenizer split regexes, implemented by hand over Unicode scalars. Each gives exactly
/// the matches that Oniguruma (the engine `tokenizers` uses) finds with the regex, scanning left
/// to right and taking, at each position, the first alternative that matches (with backtracking
/// for `(?!\S)` and `\s*[\r\n]+`). Every position is covered by some alternative, so the matches
/// tile the text and `Isolated` splitting emits exactly the matches.
enum SplitPattern: Equatable, Sendable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    /// (ByteLevel's `use_regex`).
    case gpt2
    /// Llama 3 / cl100k: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen 2: the Llama 3 pattern with `\p{N}` (one digit per piece) instead of `\p{N}{1,3}`.
    case qwen2

    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The pattern for a `Split` regex string, or nil when it is not one of the known ones.
    init?(regex: String) {
        switch regex {
        case Self.gpt2Regex: self = .gpt2
        case Self.llama3Regex: self = .llama3
        case Self.qwen2Regex: self = .qwen2
        default: return nil
        }
    }

    /// Splits `text` into its matches, calling `emit` with each piece's byte range in order.
    func split(_ text: UnsafeBufferPointer<UInt8>, scratch: ScalarScratch, emit: (Range<Int>) -> Void) {
        scratch.load(text)
        let count = scratch.classes.count
        scratch.classes.withUnsafeBufferPointer { classes in
            scratch.starts.withUnsafeBufferPointer { starts in
                let scanner = Scanner(bytes: text, classes: classes, starts: starts, count: count)
                var i = 0
                while i < count {
                    let end: Int
                    switch self {
                    case .gpt2: end = scanner.gpt2(at: i)
                    case .llama3: end = scanner.llama3(at: i, maxDigits: 3)
                    case .qwen2: end = scanner.llama3(at: i, maxDigits: 1)
                    }
                    emit(Int(starts[i])..<Int(starts[end]))
                    i = end
                }
            }
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let classes: UnsafeBufferPointer<UInt8>
        let starts: UnsafeBufferPointer<Int32>
        let count: Int

        @inline(__always) func cls(_ i: Int) -> UInt8 { classes[i] }

        /// Whether scalar `i` is the ASCII character `c`.
        @inline(__always) func isASCII(_ i: Int, _ c: UInt8) -> Bool {
            i < count && bytes[Int(starts[i])] == c
        }

        /// Whether scalar `i` matches the ASCII letter `c` ignoring case, as Oniguruma's (?i)
        /// does: Unicode simple case folding, so U+017F LONG S matches 's' as well.
        @inline(__always) func isLetterIgnoringCase(_ i: Int, _ c: UInt8) -> Bool {
            guard i < count else { return false }
            let at = Int(starts[i])
            let b = bytes[at]
            if b | 0x20 == c, b >= 0x41 { return true }
            return c == UInt8(ascii: "s") && b == 0xC5 && bytes[at + 1] == 0xBF
        }

        @inline(__always) func isCRLF(_ i: Int) -> Bool {
            let b = bytes[Int(starts[i])]
            return b == 0x0A || b == 0x0D
        }

        /// The end of the run of scalars of class `c` starting at `i`.
        @inline(__always) func run(of c: UInt8, from i: Int) -> Int {
            var j = i
            while j < count, classes[j] == c { j += 1 }
            return j
        }

        /// `\s+(?!\S)|\s+` at a whitespace scalar `i`.
        @inline(__always) func whitespaceRun(at i: Int) -> Int {
            let end = run(of: UnicodeClasses.whitespace, from: i)
            // Followed by a non-space: give the last whitespace to the next piece, if that
            // leaves at least one.
            if end < count, end - i >= 2 { return end - 1 }
            return end
        }

        func gpt2(at i: Int) -> Int {
            if isASCII(i, UInt8(ascii: "'")), i + 1 < count {
                if isASCII(i + 1, UInt8(ascii: "s")) || isASCII(i + 1, UInt8(ascii: "t"))
                    || isASCII(i + 1, UInt8(ascii: "m")) || isASCII(i + 1, UInt8(ascii: "d")) {
                    return i + 2
                }
                if (isASCII(i + 1, UInt8(ascii: "r")) && isASCII(i + 2, UInt8(ascii: "e")))
                    || (isASCII(i + 1, UInt8(ascii: "v")) && isASCII(i + 2, UInt8(ascii: "e")))
                    || (isASCII(i + 1, UInt8(ascii: "l")) && isASCII(i + 2, UInt8(ascii: "l"))) {
                    return i + 3
                }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
            let j = isASCII(i, 0x20) && i + 1 < count ? i + 1 : i
            let c = cls(j)
            if c != UnicodeClasses.whitespace { return run(of: c, from: j) }
            return whitespaceRun(at: i)
        }

        func llama3(at i: Int, maxDigits: Int) -> Int {
            if isASCII(i, UInt8(ascii: "'")), i + 1 < count {
                if isLetterIgnoringCase(i + 1, UInt8(ascii: "s")) || isLetterIgnoringCase(i + 1, UInt8(ascii: "t"))
                    || isLetterIgnoringCase(i + 1, UInt8(ascii: "m")) || isLetterIgnoringCase(i + 1, UInt8(ascii: "d")) {
                    return i + 2
                }
                if (isLetterIgnoringCase(i + 1, UInt8(ascii: "r")) && isLetterIgnoringCase(i + 2, UInt8(ascii: "e")))
                    || (isLetterIgnoringCase(i + 1, UInt8(ascii: "v")) && isLetterIgnoringCase(i + 2, UInt8(ascii: "e")))
                    || (isLetterIgnoringCase(i + 1, UInt8(ascii: "l")) && isLetterIgnoringCase(i + 2, UInt8(ascii: "l"))) {
                    return i + 3
                }
            }
            let c = cls(i)
            // `[^\r\n\p{L}\p{N}]?\p{L}+`
            if c == UnicodeClasses.letter { return run(of: UnicodeClasses.letter, from: i) }
            if c != UnicodeClasses.number, !isCRLF(i), i + 1 < count, cls(i + 1) == UnicodeClasses.letter {
                return run(of: UnicodeClasses.letter, from: i + 1)
            }
            // `\p{N}{1,3}`
            if c == UnicodeClasses.number {
                var j = i + 1
                while j < count, j - i < maxDigits, cls(j) == UnicodeClasses.number { j += 1 }
                return j
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let j = isASCII(i, 0x20) && i + 1 < count ? i + 1 : i
            if cls(j) == UnicodeClasses.other {
                var end = run(of: UnicodeClasses.other, from: j)
                while end < count, isCRLF(end) { end += 1 }
                return end
            }
            // Here scalar i is whitespace. `\s*[\r\n]+`: up to the last CR/LF of the run.
            let end = run(of: UnicodeClasses.whitespace, from: i)
            var k = end - 1
            while k >= i {
                if isCRLF(k) { return k + 1 }
                k -= 1
            }
            // `\s+(?!\S)|\s+`
            return whitespaceRun(at: i)
        }
    }
}

/// Reusable buffers for splitting: the class and start byte of each scalar of a piece. Used by
/// one thread at a time, inside one call, so the dynamic exclusivity checks are turned off.
final class ScalarScratch {
    @exclusivity(unchecked) var classes: [UInt8] = []
    /// Start byte offset of each scalar, plus the total byte count at the end.
    @exclusivity(unchecked) var starts: [Int32] = []

    func load(_ text: UnsafeBufferPointer<UInt8>) {
        classes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        var i = 0
        while i < text.count {
            let (value, length) = UTF8Scalars.decode(text, at: i)
            classes.append(UnicodeClasses.classOf(value))
            starts.append(Int32(i))
            i += length
        }
        starts.append(Int32(text.count))
    }
}

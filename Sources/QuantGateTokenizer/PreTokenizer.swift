/// A tokenizer.json `pre_tokenizer`: a list of steps, each splitting every piece from the step
/// before (a `Sequence` is its steps in order; a single pre-tokenizer is a list of one).
///
/// Byte-level BPE also maps every byte to a character of GPT-2's alphabet. That mapping is not
/// done here: when the pre-tokenizer contains ``Step/byteLevel(addPrefixSpace:useRegex:)`` (which
/// must then be the last step), ``isByteLevel`` is true and ``BPEModel`` reads the pieces' raw
/// bytes as byte-level characters directly.
struct PreTokenizer: Equatable, Sendable {
    enum PrependScheme: String, Equatable, Sendable {
        case first, never, always
    }

    enum Step: Equatable, Sendable {
        /// `Split` with a known regex and `Isolated` behaviour.
        case split(SplitPattern)
        /// `ByteLevel`: an optional leading space, then (with `use_regex`) the GPT-2 split.
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
        /// `Metaspace`: spaces become `replacement`, which is prepended by `prependScheme`; with
        /// `split`, pieces are cut before each `replacement` (MergedWithNext).
        case metaspace(replacement: [UInt8], prependScheme: PrependScheme, split: Bool)
    }

    var steps: [Step]

    var isByteLevel: Bool {
        if case .byteLevel = steps.last { return true }
        return false
    }

    /// Splits `text` (one normalized piece, `isFirst` when it starts at offset 0 of the original
    /// input) into the words the model encodes; empty words are never emitted.
    func run(_ text: UnsafeBufferPointer<UInt8>, isFirst: Bool, scratch: ScalarScratch,
             emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        run(step: 0, text, isFirst: isFirst, scratch: scratch, emit: emit)
    }

    private func run(step index: Int, _ text: UnsafeBufferPointer<UInt8>, isFirst: Bool, scratch: ScalarScratch,
                     emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard !text.isEmpty else { return }
        guard index < steps.count else {
            emit(text)
            return
        }
        func next(_ piece: UnsafeBufferPointer<UInt8>, _ first: Bool) {
            run(step: index + 1, piece, isFirst: first, scratch: scratch, emit: emit)
        }
        func slices(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: buffer[range])
        }
        switch steps[index] {
        case .split(let pattern):
            var ranges: [Range<Int>] = []
            pattern.split(text, scratch: scratch) { ranges.append($0) }
            for range in ranges { next(slices(text, range), isFirst && range.lowerBound == 0) }

        case .byteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace && text[0] != 0x20 {
                let spaced = [0x20] + Array(text)
                spaced.withUnsafeBufferPointer { buffer in
                    byteLevelSplit(buffer, useRegex: useRegex, isFirst: isFirst, scratch: scratch, next: next)
                }
            } else {
                byteLevelSplit(text, useRegex: useRegex, isFirst: isFirst, scratch: scratch, next: next)
            }

        case .metaspace(let replacement, let prependScheme, let split):
            var replaced = Normalizer.replace([0x20], with: replacement, in: Array(text))
            let startsWithReplacement = replaced.starts(with: replacement)
            switch prependScheme {
            case .always where !startsWithReplacement, .first where !startsWithReplacement && isFirst:
                replaced.insert(contentsOf: replacement, at: 0)
            default:
                break
            }
            replaced.withUnsafeBufferPointer { buffer in
                guard split else {
                    next(buffer, isFirst)
                    return
                }
                for range in Self.mergedWithNext(buffer, delimiter: replacement) {
                    next(slices(buffer, range), isFirst && range.lowerBound == 0)
                }
            }
        }
    }

    private func byteLevelSplit(_ text: UnsafeBufferPointer<UInt8>, useRegex: Bool, isFirst: Bool, scratch: ScalarScratch,
                                next: (UnsafeBufferPointer<UInt8>, Bool) -> Void) {
        guard useRegex else {
            next(text, isFirst)
            return
        }
        var ranges: [Range<Int>] = []
        SplitPattern.gpt2.split(text, scratch: scratch) { ranges.append($0) }
        for range in ranges {
            next(UnsafeBufferPointer(rebasing: text[range]), isFirst && range.lowerBound == 0)
        }
    }

    /// `split(delimiter, MergedWithNext)` of `tokenizers`: each delimiter occurrence is its own
    /// piece, except that one directly followed by non-delimiter text starts that text's piece.
    static func mergedWithNext(_ text: UnsafeBufferPointer<UInt8>, delimiter: [UInt8]) -> [Range<Int>] {
        // Matches and gaps in order: (range, isDelimiter).
        var parts: [(Range<Int>, Bool)] = []
        var gapStart = 0
        var i = 0
        while i < text.count {
            if i + delimiter.count <= text.count, text[i] == delimiter[0],
               (1..<delimiter.count).allSatisfy({ text[i + $0] == delimiter[$0] }) {
                if gapStart < i { parts.append((gapStart..<i, false)) }
                parts.append((i..<i + delimiter.count, true))
                i += delimiter.count
                gapStart = i
            } else {
                i += 1
            }
        }
        if gapStart < text.count { parts.append((gapStart..<text.count, false)) }
        var result: [Range<Int>] = []
        var k = 0
        while k < parts.count {
            let (range, isDelimiter) = parts[k]
            if isDelimiter, k + 1 < parts.count, !parts[k + 1].1 {
                result.append(range.lowerBound..<parts[k + 1].0.upperBound)
                k += 2
            } else {
                result.append(range)
                k += 1
            }
        }
        return result
    }
}

import Foundation

/// The `BPE` model of tokenizer.json, giving the same ids as `tokenizers`' `BPE::tokenize`.
///
/// A word (one pre-tokenized piece) becomes initial symbols, one per character: its vocabulary
/// id; or, when the character is not in the vocabulary, the `<0xNN>` ids of its UTF-8 bytes
/// (`byte_fallback`, only if all of them exist); or else `unk_token` (consecutive unknowns fused
/// into one with `fuse_unk`), or nothing at all when there is no `unk_token`. Then pairs are merged
/// lowest rank first, leftmost first, with the same priority queue and stale-entry rule as
/// `Word::merge_all`. With `ignore_merges`, a word that is itself in the vocabulary is that one
/// token. For byte-level models (the pre-tokenizer ends in `ByteLevel`), a word's characters are
/// its raw bytes read through GPT-2's byte alphabet.
///
/// Results for words under 256 bytes are cached (at most 10 000 words, as `tokenizers` does).
final class BPEModel: @unchecked Sendable {
    /// Token → id, as in the file.
    let vocabulary: [String: Int]
    /// Id → token (nil where no token has that id).
    let tokens: [String?]
    let isByteLevel: Bool

    private let merges: MergeTable
    private let ignoreMerges: Bool
    private let fuseUnknown: Bool
    let unknownID: UInt32?
    /// Whole-word vocabulary lookups for `ignore_merges`, keyed by the word's bytes (raw bytes
    /// for byte-level models).
    private let wordIDs: ByteStringMap<UInt32>
    /// For byte-level models: the symbol(s) of each byte.
    private let byteSymbols: [CharacterSymbols]
    /// For other models: ids of single-character tokens, ASCII in an array, the rest in a map.
    private let asciiIDs: [UInt32?]
    private let characterIDs: [UInt32: UInt32]
    /// `<0xNN>` ids (nil when `byte_fallback` is off or a byte token is missing).
    let byteFallbackIDs: [UInt32?]?

    private let cacheLock = NSLock()
    /// Guarded by `cacheLock` (so the per-access exclusivity check is redundant and off).
    @exclusivity(unchecked) private var cache = ByteStringMap<[UInt32]>()
    static let cacheCapacity = 10_000
    static let cacheMaxWordLength = 256

    /// How one character starts out.
    enum CharacterSymbols: Sendable {
        case token(UInt32)
        case bytes([UInt32])
        case unknown
    }

    struct Options: Equatable, Sendable {
        var unknownToken: String?
        var fuseUnknown = false
        var byteFallback = false
        var ignoreMerges = false
    }

    /// - Parameters:
    ///   - vocabulary: token → id.
    ///   - merges: the merge pairs, highest priority first (rank = index).
    ///   - mergeField: field path of each merge, for errors (index → path).
    /// - Throws: ``TokenizerError/invalidField(file:field:reason:)`` for a merge whose parts or
    ///   result are not in the vocabulary, or an `unk_token` that is not.
    init(vocabulary: [String: Int], merges: [(String, String)], options: Options, isByteLevel: Bool,
         file: String) throws(TokenizerError) {
        self.vocabulary = vocabulary
        self.isByteLevel = isByteLevel
        ignoreMerges = options.ignoreMerges
        fuseUnknown = options.fuseUnknown

        let maxID = vocabulary.values.max() ?? -1
        var tokens = [String?](repeating: nil, count: maxID + 1)
        for (token, id) in vocabulary.sorted(by: { $0.key < $1.key }) where tokens[id] == nil { tokens[id] = token }
        self.tokens = tokens

        if let unknown = options.unknownToken {
            guard let id = vocabulary[unknown] else {
                throw .invalidField(file: file, field: "model.unk_token", reason: "names '\(unknown)', which is not in model.vocab")
            }
            unknownID = UInt32(id)
        } else {
            unknownID = nil
        }

        var table = MergeTable(capacity: merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let leftID = vocabulary[left] else {
                throw .invalidField(file: file, field: "model.merges[\(rank)]", reason: "uses '\(left)', which is not in model.vocab")
            }
            guard let rightID = vocabulary[right] else {
                throw .invalidField(file: file, field: "model.merges[\(rank)]", reason: "uses '\(right)', which is not in model.vocab")
            }
            guard let mergedID = vocabulary[left + right] else {
                throw .invalidField(file: file, field: "model.merges[\(rank)]",
                                    reason: "makes '\(left + right)', which is not in model.vocab")
            }
            table.set(UInt32(leftID), UInt32(rightID), rank: UInt32(rank), merged: UInt32(mergedID))
        }
        self.merges = table

        var byteFallback: [UInt32?]? = nil
        if options.byteFallback {
            byteFallback = (0..<256).map { byte in vocabulary[String(format: "<0x%02X>", byte)].map { UInt32($0) } }
        }
        byteFallbackIDs = byteFallback

        var words = ByteStringMap<UInt32>()
        if options.ignoreMerges {
            for (token, id) in vocabulary {
                if isByteLevel {
                    if let bytes = ByteLevel.bytes(ofToken: token) { words.set(bytes, UInt32(id)) }
                } else {
                    words.set(Array(token.utf8), UInt32(id))
                }
            }
        }
        wordIDs = words

        func symbols(ofCharacter character: String) -> CharacterSymbols {
            if let id = vocabulary[character] { return .token(UInt32(id)) }
            if let byteFallback {
                let ids = character.utf8.compactMap { byteFallback[Int($0)] }
                if ids.count == character.utf8.count { return .bytes(ids) }
            }
            return .unknown
        }
        if isByteLevel {
            byteSymbols = ByteLevel.scalarForByte.map { value in
                symbols(ofCharacter: Unicode.Scalar(value).map { String(Character($0)) } ?? "")
            }
            asciiIDs = []
            characterIDs = [:]
        } else {
            byteSymbols = []
            asciiIDs = (0..<128).map { vocabulary[String(UnicodeScalar(UInt8($0)))].map { UInt32($0) } }
            var characters: [UInt32: UInt32] = [:]
            for (token, id) in vocabulary {
                var scalars = token.unicodeScalars.makeIterator()
                if let first = scalars.next(), scalars.next() == nil, first.value >= 128 { characters[first.value] = UInt32(id) }
            }
            characterIDs = characters
        }
    }

    /// The number of vocabulary entries (`get_vocab_size()` of the model).
    var count: Int { vocabulary.count }

    /// Appends the ids of one word.
    func tokenize(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int], scratch: MergeScratch) {
        guard !word.isEmpty else { return }
        if ignoreMerges, let id = wordIDs[word] {
            ids.append(Int(id))
            return
        }
        let cacheable = word.count < Self.cacheMaxWordLength
        if cacheable {
            cacheLock.lock()
            let hit = cache[word]
            cacheLock.unlock()
            if let hit {
                for id in hit { ids.append(Int(id)) }
                return
            }
        }
        initialSymbols(word, into: &scratch.symbols)
        merge(scratch)
        for id in scratch.symbols { ids.append(Int(id)) }
        if cacheable {
            cacheLock.lock()
            if cache.count < Self.cacheCapacity { cache.set(word, scratch.symbols) }
            cacheLock.unlock()
        }
    }

    /// The ids of a word before merging: characters, byte fallbacks and unknowns, as
    /// `BPE::merge_word` builds them (including its order when a byte fallback follows a pending
    /// unknown: the unknown comes after the bytes).
    private func initialSymbols(_ word: UnsafeBufferPointer<UInt8>, into symbols: inout [UInt32]) {
        symbols.removeAll(keepingCapacity: true)
        var pendingUnknown = false
        @inline(__always) func place(_ character: CharacterSymbols) {
            switch character {
            case .token(let id):
                if pendingUnknown, let unknownID {
                    symbols.append(unknownID)
                    pendingUnknown = false
                }
                symbols.append(id)
            case .bytes(let ids):
                symbols.append(contentsOf: ids)
            case .unknown:
                guard let unknownID else { return }
                if pendingUnknown && !fuseUnknown { symbols.append(unknownID) }
                pendingUnknown = true
            }
        }
        if isByteLevel {
            for byte in word { place(byteSymbols[Int(byte)]) }
        } else {
            var i = 0
            while i < word.count {
                let lead = word[i]
                if lead < 0x80 {
                    if let id = asciiIDs[Int(lead)] { place(.token(id)) } else { place(fallback(word, i, 1)) }
                    i += 1
                } else {
                    let (value, length) = UTF8Scalars.decode(word, at: i)
                    if let id = characterIDs[value] { place(.token(id)) } else { place(fallback(word, i, length)) }
                    i += length
                }
            }
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
    }

    private func fallback(_ word: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> CharacterSymbols {
        guard let byteFallbackIDs else { return .unknown }
        var ids: [UInt32] = []
        for k in start..<start + length {
            guard let id = byteFallbackIDs[Int(word[k])] else { return .unknown }
            ids.append(id)
        }
        return .bytes(ids)
    }

    /// `Word::merge_all` without dropout, on `scratch.symbols` in place.
    private func merge(_ scratch: MergeScratch) {
        let n = scratch.symbols.count
        guard n >= 2 else { return }
        scratch.prepare(count: n)
        var heap = MergeScratch.Heap()
        swap(&heap, &scratch.heap)
        defer { swap(&heap, &scratch.heap) }
        scratch.symbols.withUnsafeMutableBufferPointer { symbols in
            scratch.previous.withUnsafeMutableBufferPointer { previous in
                scratch.next.withUnsafeMutableBufferPointer { next in
                    scratch.removed.withUnsafeMutableBufferPointer { removed in
                        heap.removeAll(keepingCapacity: true)
                        for i in 0..<(n - 1) {
                            if let merge = merges.get(symbols[i], symbols[i + 1]) {
                                heap.push(MergeScratch.Entry(merge: merge, position: i))
                            }
                        }
                        while let top = heap.pop() {
                            let position = top.position
                            if removed[position] { continue }
                            let right = Int(next[position])
                            if right < 0 { continue }
                            // Skip entries made stale by earlier merges.
                            guard let current = merges.get(symbols[position], symbols[right]),
                                  UInt32(truncatingIfNeeded: current) == top.mergedID else { continue }
                            symbols[position] = top.mergedID
                            removed[right] = true
                            let after = next[right]
                            next[position] = after
                            if after >= 0 { previous[Int(after)] = Int32(position) }
                            let before = Int(previous[position])
                            if before >= 0, let merge = merges.get(symbols[before], symbols[position]) {
                                heap.push(MergeScratch.Entry(merge: merge, position: before))
                            }
                            if after >= 0, let merge = merges.get(symbols[position], symbols[Int(after)]) {
                                heap.push(MergeScratch.Entry(merge: merge, position: position))
                            }
                        }
                        var kept = 0
                        for i in 0..<n where !removed[i] {
                            symbols[kept] = symbols[i]
                            kept += 1
                        }
                        scratch.keptCount = kept
                    }
                }
            }
        }
        scratch.symbols.removeLast(n - scratch.keptCount)
    }
}

/// Reusable buffers for one encode call's BPE merges. Used by one thread at a time, inside one
/// call, so the dynamic exclusivity checks of class properties are turned off.
final class MergeScratch {
    struct Entry {
        /// `rank << 32 | position`: lowest rank first, then leftmost.
        var key: UInt64
        var mergedID: UInt32
        var position: Int { Int(truncatingIfNeeded: key & 0xFFFF_FFFF) }

        init(merge: UInt64, position: Int) {
            key = (merge >> 32) << 32 | UInt64(position)
            mergedID = UInt32(truncatingIfNeeded: merge)
        }
    }

    /// A binary min-heap of merge entries.
    struct Heap {
        private var entries: [Entry] = []

        mutating func removeAll(keepingCapacity: Bool) { entries.removeAll(keepingCapacity: keepingCapacity) }

        mutating func push(_ entry: Entry) {
            entries.append(entry)
            var i = entries.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                if entries[parent].key <= entry.key { break }
                entries[i] = entries[parent]
                i = parent
            }
            entries[i] = entry
        }

        mutating func pop() -> Entry? {
            guard let last = entries.popLast() else { return nil }
            guard !entries.isEmpty else { return last }
            let top = entries[0]
            let count = entries.count
            var i = 0
            while true {
                var child = 2 * i + 1
                if child >= count { break }
                if child + 1 < count, entries[child + 1].key < entries[child].key { child += 1 }
                if last.key <= entries[child].key { break }
                entries[i] = entries[child]
                i = child
            }
            entries[i] = last
            return top
        }
    }

    @exclusivity(unchecked) var symbols: [UInt32] = []
    @exclusivity(unchecked) var previous: [Int32] = []
    @exclusivity(unchecked) var next: [Int32] = []
    @exclusivity(unchecked) var removed: [Bool] = []
    @exclusivity(unchecked) var heap = Heap()
    @exclusivity(unchecked) var keptCount = 0

    func prepare(count n: Int) {
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        removed.removeAll(keepingCapacity: true)
        for i in 0..<n {
            previous.append(Int32(i - 1))
            next.append(i + 1 < n ? Int32(i + 1) : -1)
            removed.append(false)
        }
    }
}

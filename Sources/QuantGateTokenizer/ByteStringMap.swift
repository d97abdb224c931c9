/// A dictionary keyed by byte strings that looks up short keys (≤ 15 bytes, nearly every word)
/// without allocating: they are packed into two integers.
struct ByteStringMap<Value> {
    private struct ShortKey: Hashable {
        var low: UInt64
        var high: UInt64
    }

    private var short: [ShortKey: Value] = [:]
    private var long: [[UInt8]: Value] = [:]

    var count: Int { short.count + long.count }

    @inline(__always)
    private static func pack(_ bytes: UnsafeBufferPointer<UInt8>) -> ShortKey? {
        let n = bytes.count
        guard n <= 15 else { return nil }
        var low: UInt64 = 0
        var high = UInt64(n) << 56
        var i = 0
        while i < n && i < 8 {
            low |= UInt64(bytes[i]) << (8 * UInt64(i))
            i += 1
        }
        while i < n {
            high |= UInt64(bytes[i]) << (8 * UInt64(i - 8))
            i += 1
        }
        return ShortKey(low: low, high: high)
    }

    subscript(bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        if let key = Self.pack(bytes) { return short[key] }
        return long[Array(bytes)]
    }

    subscript(bytes: [UInt8]) -> Value? {
        bytes.withUnsafeBufferPointer { self[$0] }
    }

    mutating func set(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Value) {
        if let key = Self.pack(bytes) {
            short[key] = value
        } else {
            long[Array(bytes)] = value
        }
    }

    mutating func set(_ bytes: [UInt8], _ value: Value) {
        bytes.withUnsafeBufferPointer { set($0, value) }
    }
}

/// An open-addressing hash table from a pair of token ids to a merge (rank and merged id), the
/// innermost lookup of BPE. Keys and values are packed into `UInt64`s.
struct MergeTable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private let shift: UInt64
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        var bits: UInt64 = 4
        while size < capacity * 2 {
            size <<= 1
            bits += 1
        }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
        shift = 64 - bits
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Sets the merge of `(left, right)`; a later call for the same pair replaces the earlier
    /// one (as collecting the merges into a map does in `tokenizers`).
    mutating func set(_ left: UInt32, _ right: UInt32, rank: UInt32, merged: UInt32) {
        let key = UInt64(left) << 32 | UInt64(right)
        var i = slot(key)
        while keys[i] != Self.empty && keys[i] != key { i = (i + 1) & mask }
        keys[i] = key
        values[i] = UInt64(rank) << 32 | UInt64(merged)
    }

    /// `(rank << 32) | merged id` for the pair, or nil.
    @inline(__always)
    func get(_ left: UInt32, _ right: UInt32) -> UInt64? {
        let key = UInt64(left) << 32 | UInt64(right)
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }
}

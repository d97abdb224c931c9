import QuantGateTensors

/// Picks calibration windows from a token stream, deterministically from a seed.
///
/// The stream (documents concatenated in order) is cut into consecutive, non-overlapping windows
/// of `length` tokens, the incomplete tail dropped. When there are more than `count`, `count` of
/// them are drawn without replacement by a partial Fisher–Yates shuffle of their indices driven by
/// SplitMix64(`seed`) (step `i` swaps index `i` with `i + next() % (windows − i)`), and used in
/// stream order. When there are `count` or fewer, all are used (none for a stream shorter than one
/// window). No window is ever repeated.
public enum WindowSampler {
    /// - Returns: the windows, and how many complete windows the stream held.
    public static func sample(stream: [Int], count: Int, length: Int, seed: UInt64) -> (windows: [[Int]], available: Int) {
        precondition(count > 0 && length > 0)
        let available = stream.count / length
        var indices = Array(0..<available)
        if available > count {
            var generator = SplitMix64(seed: seed)
            for i in 0..<count {
                let j = i + Int(generator.next() % UInt64(available - i))
                indices.swapAt(i, j)
            }
            indices = indices.prefix(count).sorted()
        }
        return (indices.map { Array(stream[($0 * length)..<(($0 + 1) * length)]) }, available)
    }
}

import Dispatch

/// What every `quantgate bench` figure is built from: the best of several wall-clock timings, and
/// seeded inputs, so that ratios measured in the same run compare like with like.
public enum BenchmarkTiming {
    /// The shortest of `repeats` (at least one) wall-clock timings of `body`, in seconds.
    public static func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var fastest = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return fastest
    }

    /// `count` seeded weight-like values: triangular on [−0.05, 0.05].
    public static func weights(count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let u = Float(generator.next() >> 40) / Float(1 << 24), v = Float(generator.next() >> 40) / Float(1 << 24)
            return (u + v - 1) * 0.05
        }
    }
}

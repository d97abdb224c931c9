import CKernels
import Foundation

/// Throughput of the numeric conversions, as ratios to `memcpy` of the same bytes measured in the
/// same run (so the figures mean something on a noisy, shared machine). Single-threaded.
public enum ConversionBenchmark {
    /// One conversion's result.
    public struct Row: Sendable, Encodable {
        /// e.g. "f32 → FP8 E4M3".
        public var conversion: String
        /// Source bytes per second through the dispatched (SIMD when available) kernel.
        public var bytesPerSecond: Double
        /// `bytesPerSecond` divided by memcpy's rate on the same source bytes.
        public var ratioToMemcpy: Double
        /// Dispatched kernel rate divided by the scalar reference's rate.
        public var speedupOverReference: Double
    }

    /// The dispatched variant's name ("avx2+f16c" or "reference").
    public static var variant: String { String(cString: qg_numerics_variant()) }

    /// Runs every conversion over `elements` values, keeping the best of `repeats` timings of each.
    public static func run(elements: Int = 1 << 22, repeats: Int = 7) -> [Row] {
        var rng = SplitMix64(seed: 0x5EED)
        let floats = (0..<elements).map { _ in Float.random(in: -500...500, using: &rng) }
        var halves = [UInt16](repeating: 0, count: elements)
        var bytes = [UInt8](repeating: 0, count: elements)
        var out = [Float](repeating: 0, count: elements)
        let n = Int64(elements)
        qg_f32_to_f16(floats, &halves, n)
        qg_f32_to_fp8_e4m3(floats, &bytes, n)

        func row(_ name: String, sourceBytes: Int, fast: () -> Void, reference: () -> Void) -> Row {
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: sourceBytes * 2, alignment: 64)
            defer { scratch.deallocate() }
            let copy = BenchmarkTiming.best(repeats) { memcpy(scratch, scratch.advanced(by: sourceBytes), sourceBytes) }
            let fastTime = BenchmarkTiming.best(repeats, fast)
            let referenceTime = BenchmarkTiming.best(repeats, reference)
            return Row(conversion: name, bytesPerSecond: Double(sourceBytes) / fastTime,
                       ratioToMemcpy: copy / fastTime, speedupOverReference: referenceTime / fastTime)
        }

        return [
            row("f16 → f32", sourceBytes: elements * 2,
                fast: { qg_f16_to_f32(halves, &out, n) }, reference: { qg_f16_to_f32_ref(halves, &out, n) }),
            row("f32 → f16", sourceBytes: elements * 4,
                fast: { qg_f32_to_f16(floats, &halves, n) }, reference: { qg_f32_to_f16_ref(floats, &halves, n) }),
            row("bf16 → f32", sourceBytes: elements * 2,
                fast: { qg_bf16_to_f32(halves, &out, n) }, reference: { qg_bf16_to_f32_ref(halves, &out, n) }),
            row("f32 → bf16", sourceBytes: elements * 4,
                fast: { qg_f32_to_bf16(floats, &halves, n) }, reference: { qg_f32_to_bf16_ref(floats, &halves, n) }),
            row("FP8 E4M3 → f32", sourceBytes: elements,
                fast: { qg_fp8_e4m3_to_f32(bytes, &out, n) }, reference: { qg_fp8_e4m3_to_f32_ref(bytes, &out, n) }),
            row("f32 → FP8 E4M3", sourceBytes: elements * 4,
                fast: { qg_f32_to_fp8_e4m3(floats, &bytes, n) }, reference: { qg_f32_to_fp8_e4m3_ref(floats, &bytes, n) }),
            row("FP8 E5M2 → f32", sourceBytes: elements,
                fast: { qg_fp8_e5m2_to_f32(bytes, &out, n) }, reference: { qg_fp8_e5m2_to_f32_ref(bytes, &out, n) }),
            row("f32 → FP8 E5M2", sourceBytes: elements * 4,
                fast: { qg_f32_to_fp8_e5m2(floats, &bytes, n) }, reference: { qg_f32_to_fp8_e5m2_ref(floats, &bytes, n) }),
        ]
    }
}

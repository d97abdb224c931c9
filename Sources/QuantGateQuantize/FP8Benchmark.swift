import CKernels
import QuantGateFormats
import QuantGateTensors

/// FP8 quantization throughput, one thread, next to `memcpy` of the same f32 bytes in the same run.
public enum FP8Benchmark {
    public struct Row: Codable, Sendable {
        public var operation: String
        /// MB/s of f32 input.
        public var megabytesPerSecond: Double
        /// Rate over the memcpy rate.
        public var ratioToMemcpy: Double
        /// Rate over the scalar reference kernels doing the same work.
        public var speedupOverReference: Double
    }

    /// Best of `repeats` over a seeded `[rows, 4096]` matrix.
    public static func run(rows: Int = 1024, repeats: Int = 5) -> (memcpyMBps: Double, rows: [Row]) {
        let columns = 4096
        let x = BenchmarkTiming.weights(count: rows * columns, seed: 5)
        let bytes = Double(x.count * 4)
        func best(_ body: () -> Void) -> Double { BenchmarkTiming.best(repeats, body) }
        var copy = [Float](repeating: 0, count: x.count)
        let memcpySeconds = best { copy.withUnsafeMutableBytes { d in x.withUnsafeBytes { s in d.copyMemory(from: s) } } }
        var codes = [UInt8](repeating: 0, count: x.count)

        /// Per-row max |w|, a bf16 scale per row, and the codes: what the exporter runs per Linear.
        func quantize(reference: Bool, perTensor: Bool) {
            x.withUnsafeBufferPointer { v in
                codes.withUnsafeMutableBufferPointer { c in
                    var scales = [Float](repeating: 0, count: rows)
                    for row in 0..<rows {
                        var bad: Int64 = -1
                        let start = v.baseAddress! + row * columns
                        let amax = reference ? qg_absmax_f32_ref(start, Int64(columns), &bad) : qg_absmax_f32(start, Int64(columns), &bad)
                        scales[row] = FP8Quantizer.scale(amax: amax, storage: .bfloat16) ?? 1
                    }
                    if perTensor { scales = [Float](repeating: scales.max() ?? 1, count: rows) }
                    for row in 0..<rows {
                        let (start, out) = (v.baseAddress! + row * columns, c.baseAddress! + row * columns)
                        if reference { qg_fp8_e4m3_quantize_ref(start, scales[row], Int32(QG_QUOTIENT_BF16), out, Int64(columns)) } else {
                            qg_fp8_e4m3_quantize(start, scales[row], Int32(QG_QUOTIENT_BF16), out, Int64(columns))
                        }
                    }
                }
            }
        }
        // Rounding is idempotent, so repeats over the same (already rounded) buffer do the same work.
        copy.withUnsafeMutableBufferPointer { y in x.withUnsafeBufferPointer { y.baseAddress!.update(from: $0.baseAddress!, count: $0.count) } }
        func fakeQuant(reference: Bool) {
            copy.withUnsafeMutableBufferPointer { y in
                if reference { qg_fp8_e4m3_fake_quant_ref(y.baseAddress, 1 / 0.01, 0.01, Int64(y.count)) } else {
                    qg_fp8_e4m3_fake_quant(y.baseAddress, 1 / 0.01, 0.01, Int64(y.count))
                }
            }
        }
        let measured: [(String, () -> Void, () -> Void)] = [
            ("quantize, channel scales", { quantize(reference: false, perTensor: false) }, { quantize(reference: true, perTensor: false) }),
            ("quantize, tensor scale", { quantize(reference: false, perTensor: true) }, { quantize(reference: true, perTensor: true) }),
            ("activation fake-quant", { fakeQuant(reference: false) }, { fakeQuant(reference: true) }),
        ]
        let results = measured.map { name, fast, reference in
            let seconds = best(fast), referenceSeconds = best(reference)
            return Row(operation: name, megabytesPerSecond: bytes / seconds / 1e6, ratioToMemcpy: memcpySeconds / seconds,
                       speedupOverReference: referenceSeconds / seconds)
        }
        return (bytes / memcpySeconds / 1e6, results)
    }
}

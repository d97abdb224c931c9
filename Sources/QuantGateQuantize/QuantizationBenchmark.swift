import CKernels
import Foundation
import QuantGateFormats
import QuantGateTensors

/// Block quantization throughput per type, next to `memcpy` of the same f32 bytes in the same run.
public enum QuantizationBenchmark {
    public struct Row: Codable, Sendable {
        public var type: String
        /// MB/s of f32 input, one thread, without and with an importance matrix.
        public var quantizeMBps: Double, quantizeWithImportanceMBps: Double
        /// MB/s of f32 output.
        public var dequantizeMBps: Double
        /// Quantize rate over memcpy rate.
        public var ratioToMemcpy: Double
    }

    public static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    /// Best of `repeats` over a `[rows, 4096]` gaussian-like matrix (seeded).
    public static func run(rows: Int = 64, repeats: Int = 3) -> (memcpyMBps: Double, rows: [Row]) {
        let columns = 4096
        let x = BenchmarkTiming.weights(count: rows * columns, seed: 11)
        var generator = SplitMix64(seed: 12)
        let imatrix: [Float] = (0..<columns).map { _ in Float(generator.next() >> 40) / Float(1 << 24) + 0.01 }
        let bytes = Double(x.count * 4)
        func best(_ body: () -> Void) -> Double { BenchmarkTiming.best(repeats, body) }
        var copy = [Float](repeating: 0, count: x.count)
        let memcpySeconds = best { copy.withUnsafeMutableBytes { d in x.withUnsafeBytes { s in d.copyMemory(from: s) } } }
        let memcpyMBps = bytes / memcpySeconds / 1e6
        var results: [Row] = []
        for type in types {
            var out = [UInt8](repeating: 0, count: type.rowBytes(columns) * rows)
            let id = Int32(type.rawValue)
            let plain = best { _ = qg_quantize_rows(id, x, &out, Int64(rows), Int64(columns), nil) }
            let weighted = best { _ = qg_quantize_rows(id, x, &out, Int64(rows), Int64(columns), imatrix) }
            var values = [Float](repeating: 0, count: x.count)
            let dequantize = best { _ = qg_dequantize(id, out, &values, Int64(values.count)) }
            results.append(Row(type: type.name, quantizeMBps: bytes / plain / 1e6, quantizeWithImportanceMBps: bytes / weighted / 1e6,
                               dequantizeMBps: bytes / dequantize / 1e6, ratioToMemcpy: memcpySeconds / plain))
        }
        return (memcpyMBps, results)
    }
}

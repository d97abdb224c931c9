import CKernels
import Foundation
import QuantGateSafetensors
import QuantGateTestSupport
import Testing

/// The ggml block quantizers against ggml itself: golden bytes made by llama.cpp's libggml-base
/// (`ggml_quantize_chunk`, `to_float`) through ctypes in Tools/make_golden_quants.py, on 16 rows of
/// different character, with and without an importance matrix. Both variants (scalar reference and
/// AVX2) must give ggml's bytes and floats exactly.
@Suite("ggml block quantization vs ggml")
struct QuantsGoldenTests {
    static let types: [(name: String, id: Int32)] = [
        ("Q4_0", 2), ("Q4_1", 3), ("Q5_0", 6), ("Q5_1", 7), ("Q8_0", 8),
        ("Q2_K", 10), ("Q3_K", 11), ("Q4_K", 12), ("Q5_K", 13), ("Q6_K", 14),
    ]
    static let golden = try! SafetensorsFile(path: Fixtures.golden("quants.safetensors").path)

    static func bytes(_ name: String) throws -> [UInt8] {
        let info = try #require(golden.tensor(named: name))
        return golden.withBytes(of: info) { Array($0) }
    }

    static func floats(_ name: String) throws -> [Float] { try golden.floats(named: name) }

    typealias Quantize = @Sendable (Int32, UnsafePointer<Float>, UnsafeMutableRawPointer, Int64, Int64, UnsafePointer<Float>?) -> Int
    typealias Dequantize = @Sendable (Int32, UnsafeRawPointer, UnsafeMutablePointer<Float>, Int64) -> Int32
    static let variants: [(String, Quantize, Dequantize)] = [
        ("ref", { qg_quantize_rows_ref($0, $1, $2, $3, $4, $5) }, { qg_dequantize_ref($0, $1, $2, $3) }),
        ("avx2", { qg_quantize_rows_avx2($0, $1, $2, $3, $4, $5) }, { qg_dequantize_avx2($0, $1, $2, $3) }),
    ]

    static func quantize(_ f: Quantize, type: Int32, _ x: [Float], rows: Int, imatrix: [Float]?) -> [UInt8] {
        let columns = x.count / rows
        var out = [UInt8](repeating: 0, count: rows * columns / Int(qg_quant_block_values(type)) * qg_quant_block_bytes(type))
        let written = out.withUnsafeMutableBytes { o in
            x.withUnsafeBufferPointer { xp in
                if let imatrix {
                    return imatrix.withUnsafeBufferPointer { f(type, xp.baseAddress!, o.baseAddress!, Int64(rows), Int64(columns), $0.baseAddress!) }
                }
                return f(type, xp.baseAddress!, o.baseAddress!, Int64(rows), Int64(columns), nil)
            }
        }
        #expect(written == out.count)
        return out
    }

    @Test("quantize and dequantize equal ggml bit for bit", arguments: types.map(\.name))
    func golden(type name: String) throws {
        let id = try #require(Self.types.first { $0.name == name }?.id)
        let x = try Self.floats("input")
        let imatrix = try Self.floats("imatrix")
        let rows = x.count / 512
        for (variant, quantize, dequantize) in Self.variants {
            let plain = Self.quantize(quantize, type: id, x, rows: rows, imatrix: nil)
            #expect(plain == (try Self.bytes("\(name).plain")), "\(name) \(variant) plain")
            if name != "Q8_0" {
                #expect(Self.quantize(quantize, type: id, x, rows: rows, imatrix: imatrix) == (try Self.bytes("\(name).imatrix")),
                        "\(name) \(variant) imatrix")
            }
            var values = [Float](repeating: 0, count: x.count)
            #expect(plain.withUnsafeBytes { dequantize(id, $0.baseAddress!, &values, Int64(x.count)) } == 0)
            let expected = try Self.floats("\(name).plain.dequantized")
            #expect(values.map(\.bitPattern) == expected.map(\.bitPattern), "\(name) \(variant) dequantize")
            // Dequantize → quantize again: the bytes ggml gives for the same round trip.
            #expect(Self.quantize(quantize, type: id, values, rows: rows, imatrix: nil) == (try Self.bytes("\(name).requantized")),
                    "\(name) \(variant) requantize")
        }
    }

    @Test("SIMD equals the reference on 512 random rows per type, with and without importance")
    func simdEqualsReference() throws {
        var generator = SplitMix64(seed: 99)
        func uniform() -> Float { Float(generator.next() >> 40) / Float(1 << 24) * 2 - 1 }
        let rows = 64, columns = 1024
        for type in Self.types {
            for round in 0..<8 {
                let scale = Float(pow(10.0, Double(round % 8) - 4))
                let x = (0..<(rows * columns)).map { i in uniform() * scale * (i % 97 == 0 ? 30 : 1) }
                let imatrix: [Float]? = round % 2 == 0 ? nil : (0..<columns).map { _ in abs(uniform()) * 5 + 1e-3 }
                let reference = Self.quantize(Self.variants[0].1, type: type.id, x, rows: rows, imatrix: imatrix)
                let simd = Self.quantize(Self.variants[1].1, type: type.id, x, rows: rows, imatrix: imatrix)
                #expect(reference == simd, "\(type.name) round \(round)")
            }
        }
    }

    @Test("bad arguments are refused, not run")
    func badArguments() {
        var out = [UInt8](repeating: 0, count: 64)
        let x = [Float](repeating: 1, count: 48)
        #expect(qg_quantize_rows(99, x, &out, 1, 32, nil) == 0, "unknown type")
        #expect(qg_quantize_rows(2, x, &out, 1, 48, nil) == 0, "row not a multiple of 32")
        var y = [Float](repeating: 0, count: 48)
        #expect(qg_dequantize(12, out, &y, 48) == -1, "count not a multiple of 256")
        #expect(qg_quant_block_values(12) == 256 && qg_quant_block_bytes(12) == 144)
    }
}

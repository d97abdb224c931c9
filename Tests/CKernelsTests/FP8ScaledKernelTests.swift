import CKernels
import Foundation
import QuantGateTensors
import Testing

/// The scaled FP8 kernels (qg_fp8.h): the AVX2 variants equal the scalar references bit for bit on
/// random and edge inputs of odd lengths, and the references do what their contract says.
@Suite("FP8 scaled kernels")
struct FP8ScaledKernelTests {
    /// Seeded values spanning the E4M3 range at `scale`, with edge values mixed in.
    static func inputs(count: Int, scale: Float, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        let edges: [Float] = [0, -0, 448 * scale, -448 * scale, 464 * scale, 480 * scale, 1e30, -1e30, scale / 1024, scale / 512,
                              1.0e-40, -1.0e-40, 232 * scale, 0.5 * scale / 512]
        return (0..<count).map { i in
            if i % 7 == 3 { return edges[(i / 7) % edges.count] }
            let u = Float(generator.next() >> 40) / Float(1 << 24)
            let magnitude = Float(exp2(Double(u * 24 - 14))) * scale
            return generator.next() & 1 == 0 ? magnitude : -magnitude
        }
    }

    @Test("quantize, fake-quant and dequantize: AVX2 equals the reference bit for bit", arguments: [1, 7, 8, 9, 31, 64, 1001])
    func simdEqualsReference(count: Int) throws {
        // Off x86-64 the _avx2 names run the reference, and the comparison holds trivially.
        for (seed, scale) in [(1, Float(0.0123)), (2, Float(1)), (3, Float(3.5e-4)), (4, Float(2.0e-38))] {
            var x = Self.inputs(count: count, scale: scale, seed: UInt64(seed))
            for (i, special) in [Float.nan, -.nan, .infinity, -.infinity, .leastNonzeroMagnitude].enumerated() where i * 13 + 5 < count {
                x[i * 13 + 5] = special
            }
            var reference = [UInt8](repeating: 0, count: count), simd = reference
            for quotient in [QG_QUOTIENT_BF16, QG_QUOTIENT_F16, QG_QUOTIENT_F32] {
                qg_fp8_e4m3_quantize_ref(x, scale, Int32(quotient), &reference, Int64(count))
                qg_fp8_e4m3_quantize_avx2(x, scale, Int32(quotient), &simd, Int64(count))
                #expect(reference == simd, "quantize, scale \(scale), quotient dtype \(quotient)")
            }

            var fakeReference = x, fakeSIMD = x
            qg_fp8_e4m3_fake_quant_ref(&fakeReference, 1 / scale, scale, Int64(count))
            qg_fp8_e4m3_fake_quant_avx2(&fakeSIMD, 1 / scale, scale, Int64(count))
            #expect(fakeReference.map(\.bitPattern) == fakeSIMD.map(\.bitPattern), "fake-quant, scale \(scale)")

            var divReference = x, divSIMD = x
            qg_fp8_e4m3_fake_quant_div_ref(&divReference, scale, Int64(count))
            qg_fp8_e4m3_fake_quant_div_avx2(&divSIMD, scale, Int64(count))
            #expect(divReference.map(\.bitPattern) == divSIMD.map(\.bitPattern), "fake-quant by division, scale \(scale)")

            var decodedReference = [Float](repeating: 0, count: count), decodedSIMD = decodedReference
            qg_fp8_e4m3_dequantize_ref(reference, scale, &decodedReference, Int64(count))
            qg_fp8_e4m3_dequantize_avx2(reference, scale, &decodedSIMD, Int64(count))
            #expect(decodedReference.map(\.bitPattern) == decodedSIMD.map(\.bitPattern), "dequantize, scale \(scale)")

            var badReference: Int64 = 0, badSIMD: Int64 = 0
            let (a, b) = (qg_absmax_f32_ref(x, Int64(count), &badReference), qg_absmax_f32_avx2(x, Int64(count), &badSIMD))
            #expect(badReference == badSIMD && (badReference >= 0 || a == b))
        }
        // Every code, NaN codes included, dequantizes identically.
        let codes = (0..<256).map { UInt8($0) }
        var reference = [Float](repeating: 0, count: 256), simd = reference
        qg_fp8_e4m3_dequantize_ref(codes, 0.75, &reference, 256)
        qg_fp8_e4m3_dequantize_avx2(codes, 0.75, &simd, 256)
        #expect(reference.map(\.bitPattern) == simd.map(\.bitPattern))
    }

    @Test("quantize is the saturating E4M3 encoding of x / scale rounded to the quotient dtype; dequantize multiplies back")
    func quantizeContract() {
        let scale: Float = 0.01
        let x = Self.inputs(count: 500, scale: scale, seed: 9)
        var codes = [UInt8](repeating: 0, count: x.count), direct = codes
        qg_fp8_e4m3_quantize(x, scale, Int32(QG_QUOTIENT_F32), &codes, Int64(x.count))
        qg_f32_to_fp8_e4m3_ref(x.map { $0 / scale + 0 }, &direct, Int64(x.count))
        #expect(codes == direct)
        // bf16 quotients: double rounding, as compressed-tensors computes in the model's dtype.
        var bf16 = [UInt8](repeating: 0, count: x.count)
        qg_fp8_e4m3_quantize(x, scale, Int32(QG_QUOTIENT_BF16), &bf16, Int64(x.count))
        qg_f32_to_fp8_e4m3_ref(x.map { Float(bitPattern: Self.bf16Bits($0 / scale)) + 0 }, &direct, Int64(x.count))
        #expect(bf16 == direct)
        // The quotient 1 + 2⁻⁴ + 2⁻⁹ rounds up in one step (1.125) but to 1 through bf16 (1 + 2⁻⁴ is a tie, kept even).
        var tie: [UInt8] = [0, 0]
        qg_fp8_e4m3_quantize([1 + 0x1p-4 + 0x1p-9, -0.0], 1, Int32(QG_QUOTIENT_F32), &tie, 2)
        #expect(tie == [0x39, 0x00], "single rounding goes up; −0 becomes +0")
        qg_fp8_e4m3_quantize([1 + 0x1p-4 + 0x1p-9], 1, Int32(QG_QUOTIENT_BF16), &tie, 1)
        #expect(tie[0] == 0x38, "through bf16 the value lands on the tie and rounds to even")
        #expect(!codes.contains { $0 & 0x7F == 0x7F }, "a finite input never gives the NaN code")
        var back = [Float](repeating: 0, count: x.count)
        qg_fp8_e4m3_dequantize(codes, scale, &back, Int64(x.count))
        for (value, restored) in zip(x, back) where abs(value) <= 448 * scale && abs(value) >= scale / 64 {
            // E4M3 keeps 3 mantissa bits: relative error at most 2^-4 for normals.
            #expect(abs(restored - value) <= abs(value) / 16 + 1e-12, "\(value) → \(restored)")
        }
        #expect(back[3] == 0, "0 stays 0")
        #expect(back[17] == 448 * scale && back[24] == -448 * scale, "±448·scale is exact")
        #expect(back[31] == 448 * scale && back[38] == 448 * scale, "464·scale and 480·scale saturate to 448·scale, never NaN")
    }

    /// f32 → bf16 bits (nearest even) widened back: the quotient dtype's rounding, finite inputs only.
    static func bf16Bits(_ value: Float) -> UInt32 {
        let bits = value.bitPattern
        return (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
    }

    @Test("fake-quant is idempotent and equals encode-decode of x · (1/scale)")
    func fakeQuantContract() {
        let scale: Float = 0.0625
        var x = Self.inputs(count: 257, scale: scale, seed: 4)
        let original = x
        qg_fp8_e4m3_fake_quant(&x, 1 / scale, scale, Int64(x.count))
        var codes = [UInt8](repeating: 0, count: x.count), decoded = [Float](repeating: 0, count: x.count)
        qg_f32_to_fp8_e4m3_ref(original.map { $0 * (1 / scale) }, &codes, Int64(x.count))
        qg_fp8_e4m3_to_f32_ref(codes, &decoded, Int64(x.count))
        #expect(x.map(\.bitPattern) == decoded.map { ($0 * scale).bitPattern })
        var again = x
        qg_fp8_e4m3_fake_quant(&again, 1 / scale, scale, Int64(x.count))
        #expect(again.map(\.bitPattern) == x.map(\.bitPattern))
    }

    @Test("absmax names the first non-finite element, whichever lane it falls in", arguments: [0, 5, 8, 13, 40])
    func absmaxNonFinite(position: Int) {
        for bad in [Float.nan, .infinity, -.infinity] {
            var x = (0..<41).map { Float($0) * 0.5 - 7 }
            x[position] = bad
            var reference: Int64 = 0, dispatched: Int64 = 0
            _ = qg_absmax_f32_ref(x, Int64(x.count), &reference)
            _ = qg_absmax_f32(x, Int64(x.count), &dispatched)
            #expect(reference == Int64(position) && dispatched == Int64(position), "\(bad) at \(position)")
        }
        var finite = (0..<41).map { Float($0) * 0.5 - 7 }
        finite[position] = -99
        var none: Int64 = 0
        #expect(qg_absmax_f32(finite, Int64(finite.count), &none) == 99 && none == -1)
        #expect(qg_absmax_f32([], 0, &none) == 0 && none == -1)
    }
}

import CKernels
import Foundation
import QuantGateTestSupport
import Testing

/// The conversions in qg_numerics.h against golden vectors from ml_dtypes and torch
/// (made by `python3 Tools/make_golden_numerics.py`; see Tests/Fixtures/PROVENANCE.md),
/// and every SIMD variant against its scalar reference, bit for bit.
@Suite("Numeric conversions")
struct NumericsGoldenTests {
    typealias Decode<Code> = @Sendable (UnsafePointer<Code>?, UnsafeMutablePointer<Float>?, Int64) -> Void

    /// One decodable format: its golden table's position in numerics_decode.bin and its kernels.
    struct DecodeCase<Code: FixedWidthInteger>: CustomStringConvertible, Sendable {
        let description: String
        let tableOffset: Int
        let ref: Decode<Code>
        let simd: Decode<Code>
        let dispatched: Decode<Code>
    }

    static let decode16: [DecodeCase<UInt16>] = [
        DecodeCase(description: "f16", tableOffset: 0, ref: qg_f16_to_f32_ref, simd: qg_f16_to_f32_avx2, dispatched: qg_f16_to_f32),
        DecodeCase(description: "bf16", tableOffset: 65536, ref: qg_bf16_to_f32_ref, simd: qg_bf16_to_f32_avx2, dispatched: qg_bf16_to_f32),
    ]
    static let decode8: [DecodeCase<UInt8>] = [
        DecodeCase(description: "e4m3", tableOffset: 131072, ref: qg_fp8_e4m3_to_f32_ref, simd: qg_fp8_e4m3_to_f32_avx2, dispatched: qg_fp8_e4m3_to_f32),
        DecodeCase(description: "e5m2", tableOffset: 131328, ref: qg_fp8_e5m2_to_f32_ref, simd: qg_fp8_e5m2_to_f32_avx2, dispatched: qg_fp8_e5m2_to_f32),
    ]

    static let decodeTable: [UInt32] = {
        let data = (try? Data(contentsOf: Fixtures.golden("numerics_decode.bin"))) ?? Data()
        return data.withUnsafeBytes { raw in (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) } }
    }()

    static let hasSIMD = qg_cpu_has_avx2_f16c() != 0

    @Test("every f16 and bf16 pattern decodes like ml_dtypes, SIMD identical to scalar", arguments: decode16)
    func decodeAll16(format: DecodeCase<UInt16>) throws {
        try checkDecode(format, codes: (0...UInt16.max).map { $0 })
    }

    @Test("every FP8 pattern decodes like ml_dtypes, SIMD identical to scalar", arguments: decode8)
    func decodeAll8(format: DecodeCase<UInt8>) throws {
        try checkDecode(format, codes: (0...UInt8.max).map { $0 })
    }

    private func checkDecode<Code: FixedWidthInteger>(_ format: DecodeCase<Code>, codes: [Code]) throws {
        try #require(Self.decodeTable.count == 2 * 65536 + 2 * 256, "golden table missing or wrong size")
        let ref = run(format.ref, codes)
        let dispatched = run(format.dispatched, codes)
        #expect(ref == dispatched, "dispatched \(format) differs from the scalar reference")
        if Self.hasSIMD {
            #expect(run(format.simd, codes) == ref, "SIMD \(format) differs from the scalar reference")
        }
        var mismatches: [String] = []
        for (i, code) in codes.enumerated() {
            let golden = Self.decodeTable[format.tableOffset + i]
            if !sameValue(ref[i], golden, nanMask: 0x7FFF_FFFF, nanExponent: 0x7F80_0000) {
                mismatches.append(String(format: "code 0x%X: got 0x%08X, ml_dtypes 0x%08X", Int(code), ref[i], golden))
            }
        }
        #expect(mismatches.isEmpty, "\(format): \(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }

    private func run<Code>(_ kernel: Decode<Code>, _ codes: [Code]) -> [UInt32] {
        var out = [Float](repeating: 0, count: codes.count)
        codes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { kernel(src.baseAddress, $0.baseAddress, Int64(codes.count)) }
        }
        return out.map(\.bitPattern)
    }

    /// Bit-equal, or both NaN with the same sign (NaN payloads differ between references).
    private func sameValue(_ a: UInt32, _ b: UInt32, nanMask: UInt32, nanExponent: UInt32) -> Bool {
        func isNaN(_ x: UInt32) -> Bool { (x & nanMask) > nanExponent }
        if isNaN(a) || isNaN(b) { return isNaN(a) && isNaN(b) && (a >> 31) == (b >> 31) }
        return a == b
    }
}

import CKernels
import Foundation
import QuantGateTestSupport
import Testing

/// f32 → f16 / bf16 / FP8 encoding against torch (`Tools/make_golden_numerics.py`): 2^20 seeded
/// random inputs compared as per-chunk hashes, and ~2 200 edge inputs (every FP8 value, every tie
/// between neighbours and one ulp either side, specials, overflow thresholds) compared one by one.
/// FP8 references are torch's cast after clamping to ±max, which is what saturation means.
@Suite("Numeric encoding")
struct NumericsEncodeTests {
    struct Golden: Decodable {
        struct Edges: Decodable {
            var inputs: [String]
            var f16: [UInt16]
            var bf16: [UInt16]
            var e4m3: [UInt8]
            var e5m2: [UInt8]
        }
        var seed: UInt64
        var count: Int
        var chunk: Int
        var hashes: [String: [String]]
        var edges: Edges
    }

    enum Format: String, CaseIterable, CustomStringConvertible, Sendable {
        case f16, bf16, e4m3, e5m2
        var description: String { rawValue }

        /// (scalar reference, SIMD, dispatched) outputs, widened to UInt16.
        func encode(_ input: [Float]) -> (ref: [UInt16], simd: [UInt16], dispatched: [UInt16]) {
            switch self {
            case .f16: (run(qg_f32_to_f16_ref, input), run(qg_f32_to_f16_avx2, input), run(qg_f32_to_f16, input))
            case .bf16: (run(qg_f32_to_bf16_ref, input), run(qg_f32_to_bf16_avx2, input), run(qg_f32_to_bf16, input))
            case .e4m3: (run8(qg_f32_to_fp8_e4m3_ref, input), run8(qg_f32_to_fp8_e4m3_avx2, input), run8(qg_f32_to_fp8_e4m3, input))
            case .e5m2: (run8(qg_f32_to_fp8_e5m2_ref, input), run8(qg_f32_to_fp8_e5m2_avx2, input), run8(qg_f32_to_fp8_e5m2, input))
            }
        }

        /// The code every NaN maps to before comparison (NaN sign and payload vary between references).
        func canonical(_ code: UInt16) -> UInt16 {
            switch self {
            case .f16: (code & 0x7C00) == 0x7C00 && (code & 0x03FF) != 0 ? 0x7E00 : code
            case .bf16: (code & 0x7F80) == 0x7F80 && (code & 0x007F) != 0 ? 0x7FC0 : code
            case .e4m3: (code & 0x7F) == 0x7F ? 0x7F : code
            case .e5m2: (code & 0x7F) > 0x7C ? 0x7E : code
            }
        }

        var byteWidth: Int { self == .f16 || self == .bf16 ? 2 : 1 }

        func goldenEdges(_ edges: Golden.Edges) -> [UInt16] {
            switch self {
            case .f16: edges.f16
            case .bf16: edges.bf16
            case .e4m3: edges.e4m3.map(UInt16.init)
            case .e5m2: edges.e5m2.map(UInt16.init)
            }
        }
    }

    static let golden: Golden? = try? JSONDecoder().decode(
        Golden.self, from: Data(contentsOf: Fixtures.golden("numerics_encode.json")))

    /// The inputs of `random_inputs()` in Tools/make_golden_numerics.py, regenerated.
    static func randomInputs(seed: UInt64, count: Int) -> [Float] {
        let bases: [UInt64] = [0x43E0_0000, 0x43E8_0000, 0x4760_0000, 0x477F_E000, 0x7F80_0000]
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let r = rng.next()
            var bits: UInt64
            switch r & 3 {
            case 0:
                bits = r >> 32
            case 1:
                let exponent = 127 + ((r >> 3) % 40) - 24
                bits = ((r >> 2) & 1) << 31 | exponent << 23 | ((r >> 16) & 0x7F_FFFF)
            case 2:
                let exponent = 127 + ((r >> 3) % 48) - 30
                let k = (r >> 10) % 12
                let top = (r >> 16) & ((1 << k) - 1)
                bits = ((r >> 2) & 1) << 31 | exponent << 23 | top << (23 - k)
            default:
                let delta = Int64((r >> 8) & 0xFFFF) - 0x8000
                bits = (UInt64(Int64(bases[Int((r >> 2) % 5)]) + delta) & 0x7FFF_FFFF) | ((r >> 40) & 1) << 31
            }
            return Float(bitPattern: UInt32(truncatingIfNeeded: bits))
        }
    }

    @Test("2^20 random inputs encode like torch, SIMD identical to scalar", arguments: Format.allCases)
    func randomStream(format: Format) throws {
        let golden = try #require(Self.golden, "Tests/Fixtures/golden/numerics_encode.json missing")
        let inputs = Self.randomInputs(seed: golden.seed, count: golden.count)
        let (ref, simd, dispatched) = format.encode(inputs)
        #expect(dispatched == ref, "dispatched \(format) differs from the scalar reference")
        if qg_cpu_has_avx2_f16c() != 0 {
            let differing = zip(simd, ref).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(differing == nil, "SIMD \(format) differs at input \(differing.map { "\($0.offset): 0x" + String(inputs[$0.offset].bitPattern, radix: 16) } ?? "")")
        }
        let expected = try #require(golden.hashes[format.rawValue])
        for (chunk, start) in stride(from: 0, to: golden.count, by: golden.chunk).enumerated() {
            let codes = ref[start..<(start + golden.chunk)].map(format.canonical)
            let hash = String(format: "%016llx", fnv1a64(codes, width: format.byteWidth))
            #expect(hash == expected[chunk], "\(format) chunk \(chunk) (inputs \(start)..<\(start + golden.chunk)) differs from torch")
        }
    }

    @Test("edge inputs encode exactly like torch", arguments: Format.allCases)
    func edges(format: Format) throws {
        let golden = try #require(Self.golden, "Tests/Fixtures/golden/numerics_encode.json missing")
        let inputs = golden.edges.inputs.map { Float(bitPattern: UInt32($0, radix: 16) ?? 0) }
        let (ref, simd, _) = format.encode(inputs)
        let expected = format.goldenEdges(golden.edges)
        var mismatches: [String] = []
        for i in inputs.indices where format.canonical(ref[i]) != expected[i] {
            mismatches.append("0x\(golden.edges.inputs[i]) → 0x\(String(ref[i], radix: 16)), torch 0x\(String(expected[i], radix: 16))")
        }
        #expect(mismatches.isEmpty, "\(format): \(mismatches.count) mismatches: \(mismatches.prefix(6))")
        if qg_cpu_has_avx2_f16c() != 0 {
            let differing = inputs.indices.filter { simd[$0] != ref[$0] }
            #expect(differing.isEmpty, "SIMD \(format) differs from scalar on \(differing.count) edge inputs, first: \(differing.prefix(4).map { golden.edges.inputs[$0] })")
        }
    }

    @Test("every length exercises the SIMD tail", arguments: [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 255, 257])
    func oddLengths(length: Int) {
        let inputs = Self.randomInputs(seed: UInt64(length) + 99, count: length)
        for format in Format.allCases {
            let (ref, simd, dispatched) = format.encode(inputs)
            #expect(ref.count == length)
            #expect(dispatched == ref, "\(format) length \(length)")
            if qg_cpu_has_avx2_f16c() != 0 { #expect(simd == ref, "SIMD \(format) length \(length)") }
        }
    }

    @Test("NaN keeps its sign; FP8 saturates and never makes NaN from a finite value")
    func documentedSpecials() {
        let inputs: [Float] = [-.nan, .nan, .infinity, -.infinity, 1e30, -1e30, 449, 464.0001, 57344 * 1.1]
        let (e4m3, _, _) = Format.e4m3.encode(inputs)
        #expect(e4m3 == [0xFF, 0x7F, 0x7E, 0xFE, 0x7E, 0xFE, 0x7E, 0x7E, 0x7E])
        let (e5m2, _, _) = Format.e5m2.encode(inputs)
        #expect(e5m2 == [0xFE, 0x7E, 0x7B, 0xFB, 0x7B, 0xFB, 0x5F, 0x5F, 0x7B])
        let (f16, _, _) = Format.f16.encode(inputs)
        #expect(f16[0] == 0xFE00 && f16[1] == 0x7E00 && f16[2] == 0x7C00 && f16[4] == 0x7C00)
    }
}

private func run(_ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<UInt16>?, Int64) -> Void, _ input: [Float]) -> [UInt16] {
    var out = [UInt16](repeating: 0, count: input.count)
    input.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { kernel(src.baseAddress, $0.baseAddress, Int64(input.count)) } }
    return out
}

private func run8(_ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<UInt8>?, Int64) -> Void, _ input: [Float]) -> [UInt16] {
    var out = [UInt8](repeating: 0, count: input.count)
    input.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { kernel(src.baseAddress, $0.baseAddress, Int64(input.count)) } }
    return out.map(UInt16.init)
}

/// FNV-1a 64 over the codes as little-endian bytes of `width` (1 or 2), as the golden script hashes them.
private func fnv1a64(_ codes: [UInt16], width: Int) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for code in codes {
        for byte in 0..<width {
            hash = (hash ^ UInt64((code >> (8 * byte)) & 0xFF)) &* 0x100_0000_01B3
        }
    }
    return hash
}

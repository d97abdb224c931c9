import Foundation
import QuantGateFormats
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// GPTQ packing and zero-point conventions pinned by the reference's own code. The fixture
/// (`Tests/Fixtures/golden/gptq_reference_pack.safetensors`, made by `Tools/make_golden_gptq.py` with
/// GPTQModel 7.7.0) holds five Linears packed by GPTQModel's `pack_module` (v1 via its own v2→v1
/// conversion) and dequantized by its `TorchLinear` kernel: 4-bit symmetric g32 with an act-order g_idx,
/// 4-bit asymmetric per channel with zeros of 0 (the v1 underflow), 8-bit asymmetric g16, 4-bit g32 in
/// gptq_v2, and 2-bit asymmetric g32.
@Suite("GPTQ packing against GPTQModel")
struct GPTQPackingGoldenTests {
    struct Case {
        let name: String, bits: Int, groupSize: Int, format: GPTQQuantizationConfig.CheckpointFormat, rows: Int, columns: Int
    }

    static let file: SafetensorsFile = try! SafetensorsFile(path: Fixtures.golden("gptq_reference_pack.safetensors").path)

    static func cases() throws -> [Case] {
        try file.metadata.keys.sorted().compactMap { key in
            guard let meta = try? JSONDecoder().decode(JSONValue.self, from: Data(file.metadata[key]!.utf8)), let bits = meta["bits"]?.int else {
                return nil
            }
            return Case(name: key, bits: bits, groupSize: meta["group_size"]!.int!,
                        format: GPTQQuantizationConfig.CheckpointFormat(rawValue: meta["checkpoint_format"]!.string!)!,
                        rows: meta["out_features"]!.int!, columns: meta["in_features"]!.int!)
        }
    }

    static func int32(_ name: String) -> [Int32] {
        let tensor = file.tensor(named: name)!
        return file.withBytes(of: tensor) { bytes in (0..<(bytes.count / 4)).map { bytes.load(fromByteOffset: 4 * $0, as: Int32.self) } }
    }

    @Test("every case: our unpacking gives the reference's codes, true zeros and dequantized weights; our packing its words")
    func matchesReference() throws {
        let cases = try Self.cases()
        #expect(cases.count == 5)
        for c in cases {
            let groups = c.groupSize == -1 ? 1 : (c.columns + c.groupSize - 1) / c.groupSize
            let qweight = Self.int32(c.name + ".qweight"), qzeros = Self.int32(c.name + ".qzeros")
            let codes = GPTQPacking.unpackWeight(qweight, rows: c.rows, columns: c.columns, bits: c.bits)
            // The fixture's codes are [out, in] like ours.
            #expect(codes.map(Int32.init) == Self.int32(c.name + ".codes"), "\(c.name): codes")
            let zeros = GPTQPacking.unpackZeros(qzeros, groups: groups, rows: c.rows, bits: c.bits, offset: c.format.zeroOffset)
            #expect(zeros == Self.int32(c.name + ".zeros"), "\(c.name): zeros")
            #expect(GPTQPacking.packWeight(codes: codes, rows: c.rows, columns: c.columns, bits: c.bits) == qweight, "\(c.name): qweight words")
            #expect(GPTQPacking.packZeros(zeros, groups: groups, rows: c.rows, bits: c.bits, offset: c.format.zeroOffset) == qzeros,
                    "\(c.name): qzeros words")
            let linear = GroupQuantizedLinear(rows: c.rows, columns: c.columns, codes: codes, scales: try Self.file.floats(named: c.name + ".scales"),
                                             zeros: zeros, groupIndex: Self.int32(c.name + ".g_idx"))
            #expect(linear.dequantized() == (try Self.file.floats(named: c.name + ".dequantized")), "\(c.name): dequantized")
        }
    }

    @Test("v1 symmetric 4-bit zeros are stored as 0x77777777, v2 as 0x88888888")
    func symmetricZeroWords() {
        let zeros = [Int32](repeating: 8, count: 16)
        #expect(GPTQPacking.packZeros(zeros, groups: 2, rows: 8, bits: 4, offset: 1) == [0x7777_7777, 0x7777_7777])
        #expect(GPTQPacking.packZeros(zeros, groups: 2, rows: 8, bits: 4, offset: 0).map { UInt32(bitPattern: $0) } == [0x8888_8888, 0x8888_8888])
        #expect(Self.int32("a_sym4_g32_descact.qzeros").allSatisfy { $0 == 0x7777_7777 })
    }

    @Test("round trips: random codes and zeros through pack and unpack for 2, 4 and 8 bits, both formats")
    func roundTrips() {
        var rng = SplitMix64(seed: 11)
        for bits in [2, 4, 8] {
            let (rows, columns, groups) = (32, 64, 4)
            let top = UInt64(1 << bits)
            let codes = (0..<(rows * columns)).map { _ in UInt8(rng.next() % top) }
            let packed = GPTQPacking.packWeight(codes: codes, rows: rows, columns: columns, bits: bits)
            #expect(packed.count == columns * bits / 32 * rows)
            #expect(GPTQPacking.unpackWeight(packed, rows: rows, columns: columns, bits: bits) == codes)
            for offset: Int32 in [0, 1] {
                let zeros = (0..<(groups * rows)).map { _ in Int32(rng.next() % top) }
                let words = GPTQPacking.packZeros(zeros, groups: groups, rows: rows, bits: bits, offset: offset)
                #expect(GPTQPacking.unpackZeros(words, groups: groups, rows: rows, bits: bits, offset: offset) == zeros, "\(bits)-bit offset \(offset)")
            }
        }
    }
}

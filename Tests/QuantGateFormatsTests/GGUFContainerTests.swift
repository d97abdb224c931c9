import Foundation
import QuantGateFormats
import QuantGateTestSupport
import Testing

/// The GGUF container: writer ⇄ reader round trips and strict validation of damaged headers.
@Suite("GGUF container")
struct GGUFContainerTests {
    static let metadata: [(key: String, value: GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("general.name", .string("tiny ✓")),
        ("llama.block_count", .uint32(2)),
        ("llama.rope.freq_base", .float32(10000)),
        ("some.int64", .int64(-5)),
        ("some.flag", .bool(true)),
        ("tokenizer.ggml.tokens", .strings(["<s>", "a", "b"])),
        ("tokenizer.ggml.token_type", .int32s([3, 1, 1])),
        ("empty", .int32s([])),
    ]

    static func tensors() -> [GGUFPendingTensor] {
        [
            GGUFPendingTensor(name: "token_embd.weight", shape: [4, 3], type: .f32) {
                (0..<12).flatMap { i in withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init) }
            },
            GGUFPendingTensor(name: "blk.0.attn_q.weight", shape: [32, 2], type: .q8_0) {
                (0..<68).map { UInt8($0 % 7) }  // two Q8_0 blocks: f16 scale 0x0100 and small quants
            },
            GGUFPendingTensor(name: "output_norm.weight", shape: [3], type: .f16) { [0, 0x3C, 0, 0x40, 0, 0xC0] },
        ]
    }

    static func writeSample(_ path: String, alignment: Int = 32) throws {
        try GGUFWriter.write(to: path, metadata: metadata, tensors: tensors(), alignment: alignment)
    }

    @Test("metadata, shapes, offsets and bytes survive a round trip", arguments: [32, 64])
    func roundTrip(alignment: Int) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.gguf").path
        try Self.writeSample(path, alignment: alignment)
        let file = try GGUFFile(path: path)
        #expect(file.header.version == 3)
        #expect(file.header.alignment == alignment)
        let expected = Self.metadata + (alignment == 32 ? [] : [("general.alignment", .uint32(UInt32(alignment)))])
        #expect(file.header.metadata.map(\.key) == expected.map(\.key))
        #expect(file.header.metadata.map(\.value) == expected.map(\.value))
        #expect(file.tensors.map(\.shape) == [[4, 3], [32, 2], [3]])
        #expect(file.tensors.allSatisfy { $0.offset % alignment == 0 })
        #expect(file.header.dataOffset % alignment == 0)
        #expect(try file.floats(named: "token_embd.weight").values == (0..<12).map(Float.init))
        #expect(try file.floats(named: "output_norm.weight").values == [1, 2, -2])
        let q = try #require(file.tensor(named: "blk.0.attn_q.weight"))
        #expect(file.withBytes(of: q) { Array($0) } == (0..<68).map { UInt8($0 % 7) })
        #expect(throws: GGUFError.tensorNotFound(file: path, name: "missing")) { try file.floats(named: "missing") }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size.map { $0 % alignment == 0 } == true, "every tensor, the last too, is padded")
    }

    @Test("damaged files give errors naming the field")
    func damaged() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.gguf").path
        try Self.writeSample(path)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        func error(_ bytes: [UInt8]) -> String? {
            let bad = directory.appendingPathComponent("bad.gguf").path
            _ = FileManager.default.createFile(atPath: bad, contents: Data(bytes))
            do {
                _ = try GGUFFile(path: bad)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(error(Array(good.prefix(good.count - 40)))?.contains("truncated file") == true)
        let short = error(Array(good.prefix(30)))
        #expect(short?.contains("truncated") == true || short?.contains("cannot fit") == true, "\(short ?? "no error")")
        var magic = good
        magic[0] = 0x58
        #expect(error(magic)?.contains("not a GGUF file") == true)
        var version = good
        version[4] = 9
        #expect(error(version)?.contains("version: unsupported") == true)
        var count = good
        count[8] = 0xFF; count[13] = 0x7F  // tensor_count ≈ 2^59
        #expect(error(count)?.contains("tensor_count") == true)
        #expect(error([]) != nil)
        // An array of arrays (which ggml refuses): the "empty" int32 array's element type patched to ARRAY.
        let key = Array("empty".utf8)
        let at = try #require((0..<(good.count - key.count)).first { Array(good[$0..<($0 + key.count)]) == key })
        var nested = good
        nested[at + key.count + 4] = 9  // after the key: value type (4 bytes), then the element type
        #expect(error(nested)?.contains("array of arrays") == true)
        var offset = good
        let name = Array("output_norm.weight".utf8)
        let nameAt = try #require((0..<(good.count - name.count)).first { Array(good[$0..<($0 + name.count)]) == name })
        offset[nameAt + name.count + 4 + 8 + 4] &+= 32  // n_dims, ne[0], type, then the offset's low byte
        #expect(error(offset)?.contains("expected") == true)
    }

    /// Seeded mutations of a valid header: every parse either succeeds or throws; none crashes, and
    /// the count checks keep allocations proportional to the file size.
    @Test("100k mutated headers never crash")
    func fuzz() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sample.gguf").path
        try Self.writeSample(path)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let iterations = Int(ProcessInfo.processInfo.environment["QG_FUZZ_ITERATIONS"] ?? "") ?? 100_000
        var generator = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["QG_FUZZ_SEED"] ?? "") ?? 1)
        var parsed = 0
        for _ in 0..<iterations {
            var bytes = good
            let headerEnd = min(bytes.count, 420)
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(headerEnd))
                switch generator.next() % 4 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes[position] ^= 1 << UInt8(generator.next() % 8)
                case 2: bytes[position] = [0x00, 0xFF, 0x7F, 0x80][Int(generator.next() % 4)]
                default: bytes.removeLast(Int(generator.next() % UInt64(min(64, bytes.count))))
                }
            }
            let ok = bytes.withUnsafeBytes { (try? GGUFHeader.parse($0, file: "fuzz")) != nil }
            if ok { parsed += 1 }
        }
        #expect(parsed < iterations, "some mutations must be rejected")
    }
}

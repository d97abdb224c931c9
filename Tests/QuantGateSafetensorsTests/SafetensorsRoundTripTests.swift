import Foundation
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

@Suite("Safetensors round trips and sharding")
struct SafetensorsRoundTripTests {
    /// Seeded random f32 values.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(Int64(bitPattern: rng.next() >> 11) - (1 << 52)) / Float(1 << 50) }
    }

    @Test("rows of a tensor, in any order with runs and repeats, equal the same rows of the whole tensor", arguments: [DType.bfloat16, .float32])
    func rowsOfATensor(dtype: DType) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rows.safetensors").path
        let (height, width) = (37, 24)
        let encoded = Float32Conversion.encode(Self.values(height * width, seed: 31), as: dtype)
        let values = encoded.withUnsafeBytes { Float32Conversion.decode($0, as: dtype) }   // exactly representable
        try SafetensorsWriter.write([PendingTensor(name: "m", dtype: dtype, shape: [height, width], data: encoded)], to: path)
        let file = try SafetensorsFile(path: path)
        for rows in [[0], [36], [3, 4, 5, 6, 20, 21, 2, 2, 36], Array(0..<37), []] {
            let expected = rows.flatMap { values[($0 * width)..<(($0 + 1) * width)] }
            #expect(try file.floats(named: "m", rows: rows) == expected, "\(rows)")
        }
        #expect(throws: SafetensorsError.tensorNotFound(name: "n", location: path)) { try file.floats(named: "n", rows: [0]) }
    }

    @Test("reading a file tensor by tensor leaves none of its pages resident, and rereading gives the same values")
    func readPagesAreReleased() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("big.safetensors").path
        let tensors = (0..<4).map { Self.values(1 << 20, seed: UInt64(20 + $0)) }   // 4 × 4 MiB of f32
        try SafetensorsWriter.write(tensors.enumerated().map { i, values in
            PendingTensor(name: "t\(i)", dtype: .float32, shape: [1 << 20], data: Float32Conversion.encode(values, as: .float32))
        }, to: path)
        let file = try SafetensorsFile(path: path)
        for (i, values) in tensors.enumerated() { #expect(try file.floats(named: "t\(i)") == values) }
        // The mapping's own resident size, from this process's smaps: the header page at most, not 16 MiB.
        // Read to the end: /proc files report size 0, and String(contentsOfFile:) stops after the first read.
        let data = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
        let smaps = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let name = directory.lastPathComponent + "/big.safetensors"   // smaps prints the resolved path
        let start = try #require(smaps.firstIndex { $0.hasSuffix(name) }, "the file is mapped")
        let rss = try #require(smaps[(start + 1)...].first { $0.hasPrefix("Rss:") })
        let kilobytes = try #require(Int(rss.split(separator: " ", omittingEmptySubsequences: true)[1]))
        #expect(kilobytes <= 64, "resident \(kilobytes) kB of a 16 MiB mapping")
        #expect(try file.floats(named: "t2") == tensors[2])
    }

    @Test("write then read gives the same tensors, bytes and metadata", arguments: DType.allCases.filter(\.isFloatingPoint))
    func roundTrip(dtype: DType) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.safetensors").path
        let original = Self.values(3 * 5 * 7, seed: 11)
        let encoded = Float32Conversion.encode(original, as: dtype)
        let produced = Self.values(9, seed: 12)
        try SafetensorsWriter.write([
            PendingTensor(name: "w", dtype: dtype, shape: [3, 5, 7], data: encoded),
            PendingTensor(name: "lazy", dtype: .float32, shape: [9], bytes: { Float32Conversion.encode(produced, as: .float32) }),
            PendingTensor(name: "ids", dtype: .int32, shape: [2], data: [1, 0, 0, 0, 255, 255, 255, 255]),
        ], metadata: ["format": "pt", "quantgate.note": "line\nbreak \"quoted\""], to: path)

        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "quantgate.note": "line\nbreak \"quoted\""])
        let w = try #require(file.tensor(named: "w"))
        #expect(w.dtype == dtype && w.shape == [3, 5, 7])
        #expect(file.withBytes(of: w) { Array($0) } == encoded)
        // Decoding what we encoded gives the encode(decode) fixed point: re-encoding is the identity.
        #expect(Float32Conversion.encode(try file.floats(named: "w"), as: dtype) == encoded)
        #expect(try file.floats(named: "lazy") == produced)
        #expect(try file.floats(named: "ids") == [1, -1])
        #expect(throws: SafetensorsError.tensorNotFound(name: "nope", location: path)) { try file.floats(named: "nope") }
    }

    @Test("a failing producer leaves neither the file nor a .partial behind")
    func failedWriteLeavesNothing() throws {
        struct Boom: Error {}
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.safetensors").path
        #expect(throws: (any Error).self) {
            try SafetensorsWriter.write([
                PendingTensor(name: "a", dtype: .float32, shape: [1], data: [0, 0, 0, 0]),
                PendingTensor(name: "b", dtype: .float32, shape: [1], bytes: { throw Boom() }),
            ], to: path)
        }
        #expect(throws: SafetensorsError.invalidWrite(
            file: path, reason: "tensor 'a': producer gave 3 bytes, shape [1] × F32 needs 4")) {
            try SafetensorsWriter.write([PendingTensor(name: "a", dtype: .float32, shape: [1], data: [0, 0, 0])], to: path)
        }
        #expect(throws: SafetensorsError.invalidWrite(file: path, reason: "tensor 'a' given twice")) {
            try SafetensorsWriter.write([
                PendingTensor(name: "a", dtype: .uint8, shape: [1], data: [0]),
                PendingTensor(name: "a", dtype: .uint8, shape: [1], data: [0]),
            ], to: path)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// Two shards and the index transformers writes.
    static func writeSharded(in directory: URL, index: String? = nil) throws {
        try SafetensorsWriter.write([
            PendingTensor(name: "model.embed_tokens.weight", dtype: .float32, shape: [2, 2],
                          data: Float32Conversion.encode([1, 2, 3, 4], as: .float32)),
        ], metadata: ["format": "pt"], to: directory.appendingPathComponent("model-00001-of-00002.safetensors").path)
        try SafetensorsWriter.write([
            PendingTensor(name: "lm_head.weight", dtype: .bfloat16, shape: [2], data: Float32Conversion.encode([0.5, -2], as: .bfloat16)),
            PendingTensor(name: "model.norm.weight", dtype: .float16, shape: [2], data: Float32Conversion.encode([1, 1], as: .float16)),
        ], metadata: ["format": "pt"], to: directory.appendingPathComponent("model-00002-of-00002.safetensors").path)
        let json = index ?? """
            {"metadata": {"total_size": 28}, "weight_map": {
              "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
              "lm_head.weight": "model-00002-of-00002.safetensors",
              "model.norm.weight": "model-00002-of-00002.safetensors"}}
            """
        try json.write(to: directory.appendingPathComponent(SafetensorsCheckpoint.indexFileName), atomically: true, encoding: .utf8)
    }

    @Test("a sharded checkpoint reads as one set of tensors")
    func sharded() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeSharded(in: directory)
        let checkpoint = try SafetensorsCheckpoint(path: directory.path)
        #expect(checkpoint.files.count == 2)
        #expect(Set(checkpoint.tensors.map(\.name)) == ["model.embed_tokens.weight", "lm_head.weight", "model.norm.weight"])
        #expect(try checkpoint.floats(named: "lm_head.weight") == [0.5, -2])
        #expect(try checkpoint.floats(named: "model.embed_tokens.weight") == [1, 2, 3, 4])
    }
}

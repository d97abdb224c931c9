import Foundation
import QuantGateSafetensors
import QuantGateTestSupport
import Testing

/// Mutation fuzzing of the header parser: seeded mutations of valid files must give either a
/// valid header or a `SafetensorsError`, never a crash, a hang or an allocation sized by the input's
/// claims (the parser only allocates in proportion to the bytes it is given).
///
/// Runs 100 000 mutations by default. For a longer run:
///     QG_FUZZ_ITERATIONS=10000000 QG_FUZZ_SEED=42 swift test -c release --filter SafetensorsFuzz
@Suite("Safetensors header fuzzing")
struct SafetensorsFuzzTests {
    static let iterations = ProcessInfo.processInfo.environment["QG_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 100_000
    static let seed = ProcessInfo.processInfo.environment["QG_FUZZ_SEED"].flatMap(UInt64.init) ?? 0xF022

    /// Valid files to start from: the golden files and a small handcrafted one.
    static func seeds() throws -> [[UInt8]] {
        let handcrafted = SafetensorsCorruptInputTests.craft(
            #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[],"data_offsets":[8,10]}}"#,
            data: Array(repeating: 0x3C, count: 10))
        return try SafetensorsGoldenTests.goldenFiles.map { [UInt8](try Data(contentsOf: Fixtures.golden($0))) } + [handcrafted]
    }

    /// Header tokens that steer mutations towards the parser's interesting paths.
    static let dictionary: [[UInt8]] = [
        "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F8_E4M3\"", "\"BF16\"", "\"F4\"",
        "[", "]", "{", "}", ",", ":", "-1", "0", "18446744073709551615", "1e308", "null", "true", "\"\\u0000\"",
    ].map { Array($0.utf8) }

    @Test("mutated headers never crash the reader")
    func mutatedHeaders() throws {
        let seeds = try Self.seeds()
        var rng = SplitMix64(seed: Self.seed)
        var accepted = 0
        var rejected = 0
        for _ in 0..<Self.iterations {
            var bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0...(rng.next() % 3) { Self.mutate(&bytes, &rng) }
            do {
                let header = try bytes.withUnsafeBytes { try SafetensorsHeader.parse(fileBytes: $0, file: "fuzz") }
                // Whatever is accepted must satisfy the invariants the rest of QuantGate relies on.
                let bufferSize = bytes.count - header.dataStart
                #expect(header.tensors.allSatisfy { $0.dataRange.upperBound <= bufferSize })
                #expect(header.tensors.allSatisfy { $0.byteCount == $0.elementCount * $0.dtype.byteSize })
                accepted += 1
            } catch is SafetensorsError {
                rejected += 1
            } catch {
                Issue.record("non-SafetensorsError thrown: \(error)")
            }
        }
        #expect(accepted + rejected == Self.iterations)
        #expect(rejected > Self.iterations / 2, "most mutations should be rejected; the mutator may be broken")
    }

    /// One random mutation: flip bits, overwrite, insert or delete bytes, splice a token, truncate,
    /// or rewrite the length prefix. Mutations target the header region most of the time.
    static func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        guard bytes.count > 8 else { bytes.append(UInt8(truncatingIfNeeded: rng.next())); return }
        let headerEnd = min(bytes.count, 8 + Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } & 0xFFFF))
        let inHeader = 8 + Int(rng.next() % UInt64(max(1, headerEnd - 8)))
        let anywhere = Int(rng.next() % UInt64(bytes.count))
        let position = rng.next() % 4 == 0 ? anywhere : min(inHeader, bytes.count - 1)
        switch rng.next() % 8 {
        case 0: bytes[position] ^= 1 << (rng.next() % 8)
        case 1: bytes[position] = UInt8(truncatingIfNeeded: rng.next())
        case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
        case 3: bytes.remove(at: position)
        case 4:
            let token = dictionary[Int(rng.next() % UInt64(dictionary.count))]
            bytes.insert(contentsOf: token, at: position)
        case 5:
            let token = dictionary[Int(rng.next() % UInt64(dictionary.count))]
            let end = min(bytes.count, position + token.count)
            bytes.replaceSubrange(position..<end, with: token)
        case 6: bytes.removeLast(Int(rng.next() % UInt64(min(bytes.count, 16))))
        default:
            let length = rng.next() % 4 == 0 ? rng.next() : UInt64(bytes.count - 8) &+ (rng.next() % 17) &- 8
            withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        }
    }
}

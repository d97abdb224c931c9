import Foundation
import QuantGateSafetensors
import QuantGateTestSupport
import Testing

/// Handcrafted broken files, one named case each, with the exact error the reader must give.
@Suite("Safetensors corrupt inputs")
struct SafetensorsCorruptInputTests {
    /// A file: the 8-byte length (of `header`, or `length` when given), the header, then `data`.
    static func craft(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        return withUnsafeBytes(of: (length ?? UInt64(json.count)).littleEndian, Array.init) + json + data
    }

    static let name = "bad.safetensors"
    static let eight: [UInt8] = [0, 0, 128, 63, 0, 0, 0, 64]  // two f32 values

    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let bytes: [UInt8]
        let error: SafetensorsError
    }

    static let cases: [Case] = [
        Case(description: "shorter than the length prefix", bytes: [1, 2, 3, 4, 5],
             error: .tooSmall(file: name, size: 5)),
        Case(description: "Git LFS pointer",
             bytes: Array("""
                version https://git-lfs.github.com/spec/v1
                oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393
                size 10494560

                """.utf8),
             error: .gitLFSPointer(file: name)),
        Case(description: "HTML page", bytes: Array("\n<!DOCTYPE html><html><body>Sign in</body></html>".utf8),
             error: .htmlPage(file: name)),
        Case(description: "header length over 100 MB", bytes: craft("{}", length: 200_000_000),
             error: .headerTooLarge(file: name, length: 200_000_000)),
        Case(description: "header length past the end", bytes: craft("{}", length: 64),
             error: .headerOutOfBounds(file: name, length: 64, fileSize: 10)),
        Case(description: "header not JSON", bytes: craft("{\"a\": {\"dtype\": \"F32\",, }"),
             error: .malformedHeader(file: name, reason: "not valid JSON")),
        Case(description: "header not an object", bytes: craft("[1, 2]"),
             error: .malformedHeader(file: name, reason: "does not start with '{'")),
        Case(description: "unknown dtype",
             bytes: craft(#"{"w":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}"#, data: eight),
             error: .unknownDType(file: name, tensor: "w", dtype: "F17")),
        Case(description: "format dtype QuantGate does not read",
             bytes: craft(#"{"w":{"dtype":"F4","shape":[16],"data_offsets":[0,8]}}"#, data: eight),
             error: .unsupportedDType(file: name, tensor: "w", dtype: "F4")),
        Case(description: "shape × dtype size ≠ span",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight),
             error: .sizeMismatch(file: name, tensor: "w", expectedBytes: 12, actualBytes: 8)),
        Case(description: "span past the data buffer",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: eight),
             error: .dataOutOfBounds(file: name, tensor: "w", end: 16, bufferSize: 8)),
        Case(description: "gap between tensors",
             bytes: craft(#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, data: eight),
             error: .gap(file: name, tensor: "b", offset: 2)),
        Case(description: "overlapping tensors",
             bytes: craft(#"{"a":{"dtype":"U8","shape":[6],"data_offsets":[0,6]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, data: eight),
             error: .overlap(file: name, tensor: "b", previous: "a")),
        Case(description: "trailing bytes",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: eight),
             error: .trailingBytes(file: name, count: 4)),
        Case(description: "metadata not string to string",
             bytes: craft(#"{"__metadata__":{"format":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: eight),
             error: .invalidField(file: name, tensor: "__metadata__", field: "format", reason: "is not a string")),
        Case(description: "negative dimension",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight),
             error: .invalidField(file: name, tensor: "w", field: "shape", reason: "has a dimension that is not an integer in [0, 2^53]: -2.0")),
        Case(description: "missing dtype",
             bytes: craft(#"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, data: eight),
             error: .invalidField(file: name, tensor: "w", field: "dtype", reason: "is missing")),
        Case(description: "offsets not a pair",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8]}}"#, data: eight),
             error: .invalidField(file: name, tensor: "w", field: "data_offsets",
                                  reason: "must be two integers [begin, end] in [0, 2^53], got [8.0]")),
        Case(description: "fractional dimension",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, data: eight),
             error: .invalidField(file: name, tensor: "w", field: "shape", reason: "has a dimension that is not an integer in [0, 2^53]: 2.5")),
        Case(description: "shape product overflows",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[1099511627776,1073741824],"data_offsets":[0,8]}}"#, data: eight),
             error: .invalidField(file: name, tensor: "w", field: "shape", reason: "[1099511627776, 1073741824] is too large")),
        Case(description: "dimension beyond 2^53",
             bytes: craft(#"{"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}}"#, data: eight),
             error: .invalidField(file: name, tensor: "w", field: "shape", reason: "has a dimension that is not an integer in [0, 2^53]: 1.8446744073709552e+19")),
    ]

    @Test("each corrupt file gives its exact error", arguments: cases)
    func corrupt(_ testCase: Case) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(Self.name).path
        try Data(testCase.bytes).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: SafetensorsError.self) { try SafetensorsFile(path: path) }
        #expect(error == Self.relocated(testCase.error, to: path))
        #expect(error.description.hasPrefix(path), "the message names the file: \(error)")
    }

    /// `error` with its file name replaced by `path`.
    static func relocated(_ error: SafetensorsError, to path: String) -> SafetensorsError {
        switch error {
        case .tooSmall(_, let size): .tooSmall(file: path, size: size)
        case .gitLFSPointer: .gitLFSPointer(file: path)
        case .htmlPage: .htmlPage(file: path)
        case .headerTooLarge(_, let length): .headerTooLarge(file: path, length: length)
        case .headerOutOfBounds(_, let length, let size): .headerOutOfBounds(file: path, length: length, fileSize: size)
        case .malformedHeader(_, let reason): .malformedHeader(file: path, reason: reason)
        case .invalidField(_, let t, let f, let r): .invalidField(file: path, tensor: t, field: f, reason: r)
        case .unknownDType(_, let t, let d): .unknownDType(file: path, tensor: t, dtype: d)
        case .unsupportedDType(_, let t, let d): .unsupportedDType(file: path, tensor: t, dtype: d)
        case .sizeMismatch(_, let t, let e, let a): .sizeMismatch(file: path, tensor: t, expectedBytes: e, actualBytes: a)
        case .dataOutOfBounds(_, let t, let e, let b): .dataOutOfBounds(file: path, tensor: t, end: e, bufferSize: b)
        case .overlap(_, let t, let p): .overlap(file: path, tensor: t, previous: p)
        case .gap(_, let t, let o): .gap(file: path, tensor: t, offset: o)
        case .trailingBytes(_, let c): .trailingBytes(file: path, count: c)
        default: error
        }
    }

    @Test("a shard named by the index but absent is reported by name")
    func missingShard() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try SafetensorsRoundTripTests.writeSharded(in: directory)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model-00002-of-00002.safetensors"))
        let index = directory.appendingPathComponent(SafetensorsCheckpoint.indexFileName).path
        #expect(throws: SafetensorsError.missingShard(index: index, shard: "model-00002-of-00002.safetensors")) {
            try SafetensorsCheckpoint(path: directory.path)
        }
    }

    @Test("an index entry whose shard lacks the tensor is reported")
    func tensorMissingFromShard() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try SafetensorsRoundTripTests.writeSharded(in: directory, index: """
            {"weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                            "lm_head.weight": "model-00001-of-00002.safetensors"}}
            """)
        let index = directory.appendingPathComponent(SafetensorsCheckpoint.indexFileName).path
        #expect(throws: SafetensorsError.tensorMissingFromShard(
            index: index, tensor: "lm_head.weight", shard: "model-00001-of-00002.safetensors")) {
            try SafetensorsCheckpoint(path: directory.path)
        }
    }

    @Test("an index that is not a weight map is reported")
    func malformedIndex() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try SafetensorsRoundTripTests.writeSharded(in: directory, index: #"{"weights": []}"#)
        let error = try #require(throws: SafetensorsError.self) { try SafetensorsCheckpoint(path: directory.path) }
        guard case .malformedIndex(let index, _) = error else { Issue.record("got \(error)"); return }
        #expect(index.hasSuffix(SafetensorsCheckpoint.indexFileName))
    }

    @Test("a directory without weights is reported")
    func emptyDirectory() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: SafetensorsError.noSafetensorsFiles(directory: directory.path)) {
            try SafetensorsCheckpoint(path: directory.path)
        }
    }
}

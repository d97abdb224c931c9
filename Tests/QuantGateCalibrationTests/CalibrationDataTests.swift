import QuantGateHDF5
import Foundation
@testable import QuantGateCalibration
import QuantGateModel
import QuantGateTokenizer
import QuantGateTestSupport
import Testing

/// Data sets, readers, sampling and diagnostics.
@Suite("Calibration data")
struct CalibrationDataTests {
    static let tokenizer = try! Tokenizer(directory: Fixtures.exampleModel.path)

    static func load(_ sources: [CalibrationDataSource], sequences: Int = 4, length: Int = 16, seed: UInt64 = 0) throws
        -> CalibrationSet {
        try CalibrationSet.load(sources: sources, tokenizer: tokenizer, vocabularySize: 4096, sequences: sequences,
                                length: length, seed: seed)
    }

    @Test("the built-in sets hold at least 1 MB each, and share no file with the evaluation or training text")
    func builtinSets() throws {
        var seen: [BuiltinDataset: Set<String>] = [:]
        for set in BuiltinDataset.allCases {
            let files = try set.files()
            let bytes = try files.reduce(0) { $0 + (try FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int ?? 0) }
            #expect(bytes >= 1_000_000, "\(set): \(bytes) bytes")
            #expect(files.allSatisfy { !$0.contains("/eval/") && !$0.contains("/train/") })
            seen[set] = Set(files)
        }
        #expect(seen[.mixed] == seen[.prose]!.union(seen[.code]!))
        #expect(seen[.prose]!.isDisjoint(with: seen[.code]!))
    }

    @Test("sampling: deterministic per seed, windows distinct and in stream order, never repeated")
    func sampling() {
        let stream = Array(0..<1000)
        let (a, available) = WindowSampler.sample(stream: stream, count: 10, length: 32, seed: 3)
        #expect(available == 31)
        #expect(a.count == 10 && a.allSatisfy { $0.count == 32 && $0[0] % 32 == 0 })
        #expect(a.map { $0[0] } == a.map { $0[0] }.sorted() && Set(a.map { $0[0] }).count == 10)
        #expect(WindowSampler.sample(stream: stream, count: 10, length: 32, seed: 3).windows == a)
        #expect(WindowSampler.sample(stream: stream, count: 10, length: 32, seed: 4).windows != a)
        let all = WindowSampler.sample(stream: stream, count: 100, length: 32, seed: 3)
        #expect(all.windows.count == 31 && all.windows.map { $0[0] } == (0..<31).map { $0 * 32 })
        #expect(WindowSampler.sample(stream: Array(0..<10), count: 4, length: 32, seed: 0) == ([], 0))
        #expect(WindowSampler.sample(stream: [], count: 4, length: 32, seed: 0).windows.isEmpty)
    }

    @Test("fewer tokens than asked: all windows used, a note says so, the data hash follows the windows")
    func fewerThanAsked() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("short.txt")
        try "To be, or not to be, that is the question. ".write(to: path, atomically: true, encoding: .utf8)
        let set = try Self.load([.text(path: path.path)], sequences: 8, length: 4)
        #expect(set.windows.count == set.diagnostics.windowsAvailable && set.windows.count < 8)
        #expect(set.diagnostics.notes.contains { $0.contains("fewer than the 8 asked") })
        #expect(set.dataHash == CalibrationSet.hash(set.windows))
        #expect(set.dataHash != CalibrationSet.hash(Array(set.windows.dropLast())))
    }

    @Test("repeated text gives duplicate windows, reported")
    func duplicates() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("repeat.txt")
        // 16 copies of a line, each of 8 tokens (a multiple of the window length keeps windows aligned).
        let line = String(repeating: "the king the queen ", count: 1)
        let unit = Self.tokenizer.encode(line, addSpecialTokens: false).count
        try String(repeating: line, count: 64).write(to: path, atomically: true, encoding: .utf8)
        let set = try Self.load([.text(path: path.path)], sequences: 6, length: unit * 2)
        #expect(set.diagnostics.duplicateWindows > 0)
        #expect(set.diagnostics.notes.contains { $0.contains("repeat an earlier one") })
    }

    @Test("JSONL: the --field text, or messages joined role by role")
    func jsonl() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("chat.jsonl").path
        try """
            {"body": "Good morrow, cousin.", "id": 1, "score": 0.5}

            {"messages": [{"role": "user", "content": "Who is there?"}, {"role": "assistant", "content": [{"type": "text", "text": "Nay, answer me."}]}]}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DocumentReader.readJSONL(path, field: "body") == [
            "Good morrow, cousin.", "user: Who is there?\nassistant: Nay, answer me.",
        ])
        #expect(try CalibrationDataSource.parse(path, field: "body") == [.jsonl(path: path, field: "body")])
        #expect(throws: CalibrationDataError.invalidRecord(
            path: path, line: 1, reason: "has no field 'text' and no 'messages' list (choose the field with --field)")) {
            try DocumentReader.readJSONL(path, field: "text")
        }
        try "{\"text\": 3}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CalibrationDataError.invalidRecord(path: path, line: 1, reason: "field 'text' is a number, not a string")) {
            try DocumentReader.readJSONL(path, field: "text")
        }
        try "{\"text\": \"fine\"}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CalibrationDataError.invalidRecord(path: path, line: 2, reason: "is not valid JSON")) {
            try DocumentReader.readJSONL(path, field: "text")
        }
    }

    @Test("HDF5 tokens: a 1-D stream is sampled, N×L windows are taken in order, bad ids are refused")
    func hdf5Tokens() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let matrix = directory.appendingPathComponent("windows.h5").path
        let stream = directory.appendingPathComponent("stream.h5").path
        let ids = (0..<60).map { Int32($0 * 7 % 4096) }
        try HDF5File.create(matrix).write("tokens", int32s: ids, shape: [5, 12])
        try HDF5File.create(stream).write("tokens", int32s: ids, shape: [60])

        let windows = try Self.load(try CalibrationDataSource.parse(matrix), sequences: 3, length: 99)
        #expect(windows.windows == (0..<3).map { row in ids[(row * 12)..<(row * 12 + 12)].map { Int($0) } })
        #expect(windows.diagnostics.notes.contains { $0.contains("12 tokens long") })
        let sampled = try Self.load([.tokens(path: stream)], sequences: 2, length: 10)
        #expect(sampled.windows.count == 2 && sampled.diagnostics.windowsAvailable == 6)
        #expect(throws: CalibrationDataError.self) { try Self.load([.tokens(path: matrix), .tokens(path: stream)]) }

        let bad = directory.appendingPathComponent("bad.h5").path
        try HDF5File.create(bad).write("tokens", int32s: [1, 2, 5000], shape: [3])
        #expect(throws: CalibrationDataError.invalidTokens(path: bad, reason: "holds id 5000 at flat index 2, outside the vocabulary of 4096")) {
            try Self.load([.tokens(path: bad)])
        }
        let missing = directory.appendingPathComponent("other.h5").path
        try HDF5File.create(missing).write("ids", int32s: [1], shape: [1])
        #expect(throws: CalibrationDataError.invalidTokens(path: missing, reason: "is missing")) { try Self.load([.tokens(path: missing)]) }
    }

    @Test("unreadable inputs name the file")
    func badInputs() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("binary.txt").path
        try Data([0x66, 0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: binary))
        #expect(throws: CalibrationDataError.unreadable(path: binary, reason: "is not valid UTF-8 text")) {
            try Self.load([.text(path: binary)])
        }
        #expect(throws: CalibrationDataError.missingFile(path: "/no/such/data.txt")) {
            try CalibrationDataSource.parse("/no/such/data.txt")
        }
    }

    @Test("empty or short data are refused, naming the file: at least one full window of --seq-len tokens")
    func tooFewTokens() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.txt").path
        try Data().write(to: URL(fileURLWithPath: empty))
        // The example tokenizer adds BOS: an empty text is one token, which once made a one-token "window".
        #expect(Self.tokenizer.addsBOS)
        #expect(throws: CalibrationDataError.tooFewTokens(sources: empty, tokens: 1, length: 4)) {
            try Self.load([.text(path: empty)], sequences: 1, length: 4)
        }
        let short = directory.appendingPathComponent("short.txt").path
        try "To be, or not to be.".write(toFile: short, atomically: true, encoding: .utf8)
        let tokens = Self.tokenizer.encode("To be, or not to be.", addSpecialTokens: true).count
        let error = #expect(throws: CalibrationDataError.self) { try Self.load([.text(path: short)], sequences: 4, length: 64) }
        #expect(error?.description == "\(short): \(tokens) tokens of calibration data, fewer than one window of --seq-len 64; "
                + "give more data or a smaller --seq-len")
        #expect(try Self.load([.text(path: short)], sequences: 4, length: tokens).windows.count == 1)
    }

    @Test("windows longer than max_position_embeddings are refused, naming both")
    func windowsBeyondContext() throws {
        let set = { (length: Int) in
            try CalibrationSet.load(sources: [.builtin(.prose)], tokenizer: Self.tokenizer, vocabularySize: 4096, maxPositions: 512,
                                    sequences: 1, length: length, seed: 0)
        }
        let error = #expect(throws: CalibrationDataError.windowsBeyondContext(length: 1024, maxPositions: 512)) { try set(1024) }
        #expect(error.map { "\($0)".contains("--seq-len") && "\($0)".contains("max_position_embeddings (512") } == true)
        #expect(try set(512).windows.first?.count == 512)
    }

    @Test("the fit check flags code as far from a Shakespeare model, and its own training text as near")
    func fitCheck() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Fixtures.exampleModel.path))
        let reference = try #require(FitCheck.defaultReference())
        #expect(reference.hasSuffix("eval/hamlet.txt"))
        let code = try FitCheck.run(model: model, set: try Self.load([.builtin(.code)], length: 128), tokenizer: Self.tokenizer,
                                    referencePath: reference, windows: 2)
        #expect(code.isFar, "ratio \(code.ratio)")
        let train = try CalibrationDataSource.parse(Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Calibration/train/shakespeare").path)
        let own = try FitCheck.run(model: model, set: try Self.load(train, length: 128), tokenizer: Self.tokenizer,
                                   referencePath: reference, windows: 2)
        #expect(!own.isFar, "ratio \(own.ratio)")
        #expect(own.tokensPerSecond > 0)
    }
}

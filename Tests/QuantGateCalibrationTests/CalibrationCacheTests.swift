import CHDF5
import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateOutput
import QuantGateTokenizer
import QuantGateTestSupport
import Testing

/// The HDF5 cache: reused only on a full match, recomputed on any change, rebuilt when damaged,
/// deterministic to the byte.
@Suite("Calibration cache")
struct CalibrationCacheTests {
    let model = Fixtures.root.appendingPathComponent("tiny-llama-linear").path

    struct Run {
        var status: CacheStatus
        var blockPasses: Int
        var file: StatisticsFile
    }

    func calibrate(model path: String? = nil, out: String, data: [CalibrationDataSource] = [.builtin(.prose)],
                   sequences: Int = 4, length: Int = 32, seed: UInt64 = 1, hessian: Bool = true, replace: Bool = false) throws -> Run {
        let directory = try ModelDirectory(path: path ?? model)
        let tokenizer = try Tokenizer(directory: directory.path)
        let set = try CalibrationSet.load(sources: data, tokenizer: tokenizer, vocabularySize: directory.configuration.vocabSize,
                                          sequences: sequences, length: length, seed: seed)
        let key = CalibrationKey(modelHash: try ModelFingerprint.compute(directory), set: set, hessian: hessian)
        let calibrator = Calibrator(model: try LlamaModel(directory: directory), collectHessian: hessian)
        let (file, status) = try CalibrationCache.obtain(path: out, key: key, set: set, calibrator: calibrator, replace: replace)
        return Run(status: status, blockPasses: calibrator.blockPasses, file: file)
    }

    @Test("a second identical run is a hit that runs no block; every changed input is a miss")
    func hitsAndMisses() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stats.h5").path
        let first = try calibrate(out: out)
        #expect(first.status == .absent)
        #expect(first.blockPasses == 2)
        let second = try calibrate(out: out)
        #expect(second.status == .hit)
        #expect(second.blockPasses == 0)
        #expect(try calibrate(out: out, hessian: false).status == .hit, "a file with Hessians serves a request without")

        // Each change, tried on a fresh copy of the base file.
        var copies = 0
        func missReason(_ variant: (String) throws -> Run) throws -> String? {
            copies += 1
            let copy = directory.appendingPathComponent("copy\(copies).h5").path
            try FileManager.default.copyItem(atPath: out, toPath: copy)
            let run = try variant(copy)
            if case .stale(let reason) = run.status, run.blockPasses == 2 { return reason }
            return nil
        }
        #expect(try missReason { try calibrate(out: $0, sequences: 5) }?.contains("sequences") == true)
        #expect(try missReason { try calibrate(out: $0, length: 16) }?.contains("sequence length") == true)
        #expect(try missReason { try calibrate(out: $0, seed: 2) }?.contains("seed") == true)
        #expect(try missReason { try calibrate(out: $0, data: [.builtin(.code)]) }?.contains("data hash") == true)
        let withoutHessians = directory.appendingPathComponent("plain.h5").path
        _ = try calibrate(out: withoutHessians, hessian: false)
        let upgraded = try calibrate(out: withoutHessians, hessian: true)
        guard case .stale(let reason) = upgraded.status else { Issue.record("\(upgraded.status)"); return }
        #expect(reason.contains("Hessians"))

        // Changed weights: a copy of the model with one byte of one tensor altered.
        let altered = directory.appendingPathComponent("altered")
        try FileManager.default.copyItem(atPath: model, toPath: altered.path)
        let weights = altered.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: weights)
        #expect(try missReason { try calibrate(model: altered.path, out: $0) }?.contains("model hash") == true)
    }

    @Test("truncated, foreign, non-HDF5 and altered files are detected: refused without replace (untouched), rebuilt with it")
    func damagedFilesAreRebuilt() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stats.h5").path
        let good = try Data(contentsOf: URL(fileURLWithPath: try calibrate(out: out).file.path))

        func rebuilt(after damage: () throws -> Void) throws -> String? {
            try damage()
            let damaged = try Data(contentsOf: URL(fileURLWithPath: out))
            let refused = #expect(throws: OutputError.self) { try calibrate(out: out) }
            #expect(refused?.reason.contains("pass --force to replace it") == true)
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == damaged, "a refused file is left as it was")
            let run = try calibrate(out: out, replace: true)
            guard case .invalid(let reason) = run.status, run.blockPasses == 2 else { return nil }
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == good, "the rebuilt file equals the original")
            return reason
        }
        let truncated = try rebuilt { try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: out)) }
        #expect(truncated != nil)
        let text = try rebuilt { try Data("not a statistics file\n".utf8).write(to: URL(fileURLWithPath: out)) }
        #expect(text?.contains("not an HDF5 file") == true)
        let foreign = try rebuilt { try Self.writeForeignHDF5(out) }
        #expect(foreign?.contains("not a QuantGate calibration file") == true)
        let altered = try rebuilt { try Self.overwrite(out, dataset: "/model.layers.1.output/max_abs") }
        #expect(altered?.contains("checksum") == true)
    }

    @Test("two runs write byte-identical files, and an interrupted run leaves no file behind")
    func deterministic() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = directory.appendingPathComponent("a.h5").path, b = directory.appendingPathComponent("b.h5").path
        _ = try calibrate(out: a, sequences: 6)
        _ = try calibrate(out: b, sequences: 6)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
        let contents = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(contents == ["a.h5", "b.h5"])
    }

    @Test("the file reads back what was computed, windows included")
    func roundTrip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stats.h5").path
        let modelDirectory = try ModelDirectory(path: model)
        let tokenizer = try Tokenizer(directory: model)
        let set = try CalibrationSet.load(sources: [.builtin(.mixed)], tokenizer: tokenizer,
                                          vocabularySize: 4096, sequences: 3, length: 24, seed: 5)
        let calibrator = Calibrator(model: try LlamaModel(directory: modelDirectory), collectHessian: true)
        var computed: [BlockStatistics] = []
        let writer = try StatisticsWriter(path: out, key: CalibrationKey(modelHash: "m", set: set, hessian: true), set: set,
                                          configuration: modelDirectory.configuration)
        try calibrator.run(windows: set.windows) { computed.append($0); try writer.append($0) }
        try writer.finish()
        let file = try StatisticsFile(path: out, configuration: modelDirectory.configuration)
        #expect(try file.windows() == set.windows)
        #expect(file.key == CalibrationKey(modelHash: "m", set: set, hessian: true))
        for block in computed { #expect(try file.block(block.layer) == block) }
    }

    /// An HDF5 file that is not ours: a dataset and no `format` attribute.
    static func writeForeignHDF5(_ path: String) throws {
        let file = H5Fcreate(path, qg_h5f_acc_trunc(), qg_h5p_default(), qg_h5p_default())
        guard file >= 0 else { throw FixtureError(description: "HDF5 call failed") }
        var dims: [hsize_t] = [4]
        let space = H5Screate_simple(1, &dims, nil)
        let dataset = H5Dcreate2(file, "weights", qg_h5t_native_float(), space, qg_h5p_default(), qg_h5p_default(), qg_h5p_default())
        let values: [Float] = [1, 2, 3, 4]
        H5Dwrite(dataset, qg_h5t_native_float(), qg_h5s_all(), qg_h5s_all(), qg_h5p_default(), values)
        H5Dclose(dataset)
        H5Sclose(space)
        H5Fclose(file)
    }

    /// Rewrites a dataset in place with other values, leaving the recorded checksum as it was.
    static func overwrite(_ path: String, dataset name: String) throws {
        let file = H5Fopen(path, qg_h5f_acc_rdwr(), qg_h5p_default())
        guard file >= 0 else { throw FixtureError(description: "HDF5 call failed") }
        defer { H5Fclose(file) }
        let dataset = H5Dopen2(file, name, qg_h5p_default())
        guard dataset >= 0 else { throw FixtureError(description: "HDF5 call failed") }
        defer { H5Dclose(dataset) }
        let space = H5Dget_space(dataset)
        let count = Int(H5Sget_simple_extent_npoints(space))
        H5Sclose(space)
        let values = [Float](repeating: 42, count: count)
        guard H5Dwrite(dataset, qg_h5t_native_float(), qg_h5s_all(), qg_h5s_all(), qg_h5p_default(), values) >= 0 else {
            throw FixtureError(description: "HDF5 write failed")
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

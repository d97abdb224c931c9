import Foundation
import QuantGateTestSupport
import Testing

/// `quantgate calibrate`: writes, reuses (without a forward pass), dry-runs, and refuses bad input.
@Suite("quantgate calibrate")
struct CalibrateCommandTests {
    let model = Fixtures.root.appendingPathComponent("tiny-qwen2-mqa").path

    func report(_ result: CLI.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test("a second identical run is a cache hit with no block pass; --force recomputes")
    func cacheHit() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stats.h5").path
        let arguments = ["calibrate", model, "--data", "mixed", "--samples", "3", "--seq-len", "32", "--out", out, "--json"]
        let first = try CLI.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        let firstReport = try report(first)
        #expect(firstReport["cache"] as? String == "absent")
        #expect(firstReport["blockPasses"] as? Int == 2)
        #expect(firstReport["output"] as? String == out)
        let second = try report(try CLI.run(arguments))
        #expect(second["cache"] as? String == "hit")
        #expect(second["blockPasses"] as? Int == 0)
        let forced = try report(try CLI.run(arguments + ["--force"]))
        #expect(forced["blockPasses"] as? Int == 2)
        let changed = try report(try CLI.run(arguments.map { $0 == "32" ? "24" : $0 }))
        #expect((changed["cache"] as? String)?.hasPrefix("miss: sequence length differs") == true)
    }

    @Test("--dry-run prints diagnostics and a preflight estimate, and writes nothing")
    func dryRun() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stats.h5").path
        let result = try CLI.run(["calibrate", Fixtures.exampleModel.path, "--data", "code", "--samples", "2", "--seq-len", "64",
                                  "--out", out, "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        for label in ["data", "documents", "tokens", "quality", "fit", "preflight", "cache"] {
            #expect(result.stdout.contains("\n\(label) ") || result.stdout.hasPrefix("\(label) "), "\(label) line")
        }
        #expect(result.stdout.contains("peak memory"))
        #expect(result.stderr.contains("far from the model's own text"), "code is far from a Shakespeare model")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("bad input: a missing data file, a missing --out, a malformed JSONL line")
    func badInput() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stats.h5").path
        let missing = try CLI.run(["calibrate", model, "--data", "/no/such/file.txt", "--out", out])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/no/such/file.txt: no such file or directory"))
        let noOut = try CLI.run(["calibrate", model])
        #expect(noOut.status == 2)
        #expect(noOut.stderr.contains("--out FILE is required"))
        let jsonl = directory.appendingPathComponent("data.jsonl").path
        try "{\"text\": \"fine\"}\n{\"text\": 3}\n".write(toFile: jsonl, atomically: true, encoding: .utf8)
        let malformed = try CLI.run(["calibrate", model, "--data", jsonl, "--out", out])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("data.jsonl:2: field 'text' is a number, not a string"))
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))
    }

    @Test("bench calibrate reports forward and calibration rates and the Hessian ratio")
    func bench() throws {
        let result = try CLI.run(["bench", "calibrate", model, "--samples", "2", "--seq-len", "32", "--repeat", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let figures = try report(result)
        for key in ["forwardTokensPerSecond", "calibrationTokensPerSecond", "calibrationWithHessianTokensPerSecond",
                    "hessianGFLOPS", "rawSyrkGFLOPS"] {
            #expect((figures[key] as? Double ?? 0) > 0, "\(key)")
        }
    }
}

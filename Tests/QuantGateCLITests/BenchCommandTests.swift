import Foundation
import QuantGateTestSupport
import Testing

/// `quantgate bench` runs and reports every conversion; its figures are not asserted (speed is
/// measured by the benchmark, never by tests).
@Suite("quantgate bench")
struct BenchCommandTests {
    @Test("bench numerics --json reports every conversion with positive rates")
    func numerics() throws {
        let result = try CLI.run(["bench", "numerics", "--elements", "4096", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.count == 8)
        #expect(rows.allSatisfy { ($0["bytesPerSecond"] as? Double ?? 0) > 0 && ($0["ratioToMemcpy"] as? Double ?? 0) > 0 })
    }

    @Test("a non-positive size is a usage error")
    func badSize() throws {
        let result = try CLI.run(["bench", "--elements", "0"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--elements must be in 1...268435456"))
    }

    @Test("bench forward reports prefill and raw sgemm rates for a model")
    func forward() throws {
        let model = Fixtures.root.appendingPathComponent("tiny-qwen2-mqa").path
        let result = try CLI.run(["bench", "forward", model, "--ctx", "32", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["tokens"] as? Int == 32)
        for key in ["prefillTokensPerSecond", "prefillGFLOPs", "sgemmGFLOPs", "ratioToSGEMM"] {
            #expect((report[key] as? Double ?? 0) > 0, "\(key)")
        }
        #expect((report["blasCore"] as? String)?.isEmpty == false)
        let run = try #require(report["run"] as? [String: Any], "every --json output carries the run's facts")
        let blas = try #require(run["blas"] as? [String: Any])
        #expect(blas["core"] as? String == report["blasCore"] as? String)
        #expect(["detected", "corrected", "user"].contains(blas["chosenBy"] as? String ?? ""))
        #expect((run["peakRSSBytes"] as? Int ?? 0) > 1 << 20 && (run["wallSeconds"] as? Double ?? -1) > 0)
    }

    @Test("bench tokenizer reports MB/s and the token count of the text")
    func tokenizer() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("t.txt")
        try "To be, or not to be".write(to: text, atomically: true, encoding: .utf8)
        let result = try CLI.run(["bench", "tokenizer", Fixtures.exampleModel.path, "--text", text.path, "--repeat", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("whole text: ") && result.stdout.contains("MB/s") && result.stdout.contains("19 bytes"))
    }

    @Test("bench gptq --json lists every Linear of the block under rows, with the run's facts")
    func gptq() throws {
        let result = try CLI.run(["bench", "gptq", Fixtures.exampleModel.path, "--tokens", "32", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.count == 7 && rows.allSatisfy { ($0["seconds"] as? Double ?? 0) > 0 })
        #expect((report["run"] as? [String: Any])?["blas"] != nil)
    }

    @Test("bench awq reports every scaling group and Linear of a block, and the kernel next to memcpy; a group that does not divide is refused")
    func awq() throws {
        let model = Fixtures.root.appendingPathComponent("tiny-llama-linear").path
        let result = try CLI.run(["bench", "awq", model, "--tokens", "32", "--group-size", "32", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let groups = try #require(report["groups"] as? [[String: Any]]), linears = try #require(report["linears"] as? [[String: Any]])
        #expect(groups.count == 4 && groups.filter { $0["searchSeconds"] != nil }.count == 3, "o_proj is not scaled under GQA")
        #expect(linears.count == 7 && linears.filter { $0["clipSeconds"] != nil }.count == 5, "q and k are not clipped")
        #expect((report["fakeQuantizeMBps"] as? Double ?? 0) > 0 && (report["memcpyMBps"] as? Double ?? 0) > 0)
        let refused = try CLI.run(["bench", "awq", model, "--tokens", "32"])
        #expect(refused.status == 2 && refused.stderr.contains("--group-size 128"), "\(refused.stderr)")
    }
}

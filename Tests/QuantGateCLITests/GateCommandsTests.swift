import Foundation
import QuantGateTestSupport
import Testing

/// `eval --gate`, `gate`, `verify` and `pipeline` on the example model, through the executable: exit
/// codes, report files and the promotion manifest. Small settings (ctx 128, a short text, a 4-item
/// suite, 16-token smoke generations) keep each run to seconds.
@Suite("quantgate eval --gate, gate, verify, pipeline", .serialized)
struct GateCommandsTests {
    let model = Fixtures.exampleModel.path

    /// A short text, a small suite and prompts in `directory`; the flags that use them.
    static func smallSettings(in directory: URL) throws -> [String] {
        let hamlet = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Calibration/eval/hamlet.txt")
        let text = directory.appendingPathComponent("text.txt")
        try String(try String(contentsOf: hamlet, encoding: .utf8).prefix(20_000)).write(to: text, atomically: true, encoding: .utf8)
        let suite = directory.appendingPathComponent("mini.jsonl")
        try """
            {"id": "a", "kind": "choice", "context": "To be, or not to be, that is the", "choices": ["question", "banana"], "gold": 0}
            {"id": "b", "kind": "choice", "context": "Good night, sweet", "choices": ["prince", "table"], "gold": 0}
            {"id": "c", "kind": "choice", "context": "My lord, I", "choices": ["will", "xylophone"], "gold": 0}
            {"id": "d", "kind": "exact", "prompt": "HAMLET.\\nTo be, or not to", "target": "be", "stop": [","], "max_tokens": 4}
            """.write(to: suite, atomically: true, encoding: .utf8)
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try """
            {"id": "1", "prompt": "HAMLET.\\n"}
            {"id": "2", "prompt": "KING.\\nWhat"}
            """.write(to: prompts, atomically: true, encoding: .utf8)
        return ["--ctx", "128", "--tasks", suite.path, "--smoke-prompts", prompts.path, "--smoke-tokens", "16", "--bootstrap", "200", "--quiet"]
    }

    static func quantize(_ model: String, _ type: String, in directory: URL) throws -> String {
        let out = directory.appendingPathComponent("bard-\(type).gguf").path
        let result = try CLI.run(["quantize", model, "--format", "gguf:\(type)", "--no-imatrix", "--out", out, "--quiet", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return out
    }

    @Test("Q8_0 passes the cpu gate with a manifest that verify accepts; gate re-decides from the saved report")
    func passingArtefact() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let promoted = directory.appendingPathComponent("promoted")  // verify wants a folder holding only the promoted files
        try FileManager.default.createDirectory(at: promoted, withIntermediateDirectories: true)
        let q8 = try Self.quantize(model, "Q8_0", in: promoted)
        let reports = directory.appendingPathComponent("reports")
        let text = directory.appendingPathComponent("text.txt").path
        let result = try CLI.run(["eval", model, q8, "--text", text, "--gate", "--target", "cpu", "--report", reports.path]
                                 + Self.smallSettings(in: directory))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("gate: PASS"))
        for name in ["report.json", "junit.xml", "summary.md", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent(name).path), "\(name)")
        }
        let junit = try String(contentsOf: reports.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("failures=\"0\"") && junit.contains("mean_kld"))

        let manifest = reports.appendingPathComponent("manifest.json").path
        #expect(try CLI.run(["verify", manifest, promoted.path]).status == 0)
        // Re-gating the saved report: the defaults pass, a stricter policy fails naming the metric, a bad policy is an input error.
        let report = reports.appendingPathComponent("report.json").path
        #expect(try CLI.run(["gate", report]).status == 0)
        let strict = directory.appendingPathComponent("strict.yaml").path
        try "version: 1\ntargets:\n  cpu:\n    mean_kld: 0.0000001\n".write(toFile: strict, atomically: true, encoding: .utf8)
        let failed = try CLI.run(["gate", report, "--policy", strict])
        #expect(failed.status == 1 && failed.stdout.contains("mean_kld"), "\(failed.stdout)")
        let bad = directory.appendingPathComponent("bad.yaml").path
        try "version: 1\ntargets:\n  cpu:\n    mean_kdl: 0.1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let badResult = try CLI.run(["gate", report, "--policy", bad])
        #expect(badResult.status == 2 && badResult.stderr.contains("mean_kdl"), "\(badResult.stderr)")

        // A changed byte in the promoted file: verify names it and exits 1.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: q8))
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: q8))
        let tampered = try CLI.run(["verify", manifest, promoted.path])
        #expect(tampered.status == 1 && tampered.stderr.contains("bard-Q8_0.gguf"), "\(tampered.stderr)")
    }

    @Test("a damaged artefact fails its gate naming the metrics; a corrupt one exits 2 with no manifest")
    func damagedAndCorrupt() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let q8 = try Self.quantize(model, "Q8_0", in: directory)
        let damaged = directory.appendingPathComponent("damaged.gguf").path
        try GGUFDamage.reverseRows(of: "blk.0.attn_output.weight", in: q8, to: damaged)
        let text = directory.appendingPathComponent("text.txt").path
        let settings = try Self.smallSettings(in: directory)
        let reports = directory.appendingPathComponent("reports")
        let failed = try CLI.run(["eval", model, damaged, "--text", text, "--gate", "--target", "cpu", "--report", reports.path] + settings)
        #expect(failed.status == 1, "\(failed.stdout)\n\(failed.stderr)")
        #expect(failed.stdout.contains("gate: FAIL") && failed.stdout.contains("top1_agreement_pct"), "\(failed.stdout)")
        #expect(!FileManager.default.fileExists(atPath: reports.appendingPathComponent("manifest.json").path))
        let junit = try String(contentsOf: reports.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("<failure"))

        let corrupt = directory.appendingPathComponent("corrupt.gguf").path
        try GGUFDamage.truncate(q8, by: 4096, to: corrupt)
        let broken = try CLI.run(["eval", model, corrupt, "--text", text, "--gate", "--target", "cpu", "--report", reports.path, "--force"] + settings)
        #expect(broken.status == 2 && broken.stderr.contains("corrupt.gguf"), "\(broken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: reports.appendingPathComponent("manifest.json").path))
    }

    @Test("pipeline quantizes, scores and gates every target; unknown and unavailable targets are usage errors")
    func pipeline() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let settings = try Self.smallSettings(in: directory)
        let text = directory.appendingPathComponent("text.txt").path
        let result = try CLI.run(["pipeline", model, "--targets", "cpu,x86", "--format", "gguf:Q8_0", "--eval-text", text,
                                  "--out", out.path] + settings)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let artefacts = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("artefacts").path)
        #expect(artefacts == ["bard-5m-Q8_0.gguf"], "one artefact shared by both targets")
        let report = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("report/report.json"))) as? [String: Any])
        #expect((report["candidates"] as? [[String: Any]])?.compactMap { $0["target"] as? String } == ["cpu", "x86"])
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report/manifest.json").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("baseline.h5").path))

        let unknown = try CLI.run(["pipeline", model, "--targets", "cpu,tpu9", "--out", out.path])
        #expect(unknown.status == 2 && unknown.stderr.contains("tpu9"))
        let unused = try CLI.run(["pipeline", model, "--targets", "h100", "--format", "gguf:Q8_0", "--out", out.path])
        #expect(unused.status == 2 && unused.stderr.contains("none of --targets"), "\(unused.stderr)")
        let awqGroups = try CLI.run(["pipeline", model, "--targets", "cpu,l40s", "--group-size=-1", "--out", out.path])
        #expect(awqGroups.status == 2 && awqGroups.stderr.contains("AWQ's GEMM layout"), "refused before any artefact: \(awqGroups.stderr)")
    }

    @Test("pipeline --targets h100,l40s --format fp8 writes one FP8 compressed-tensors directory that passes both gates")
    func pipelineFP8() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let settings = try Self.smallSettings(in: directory)
        let text = directory.appendingPathComponent("text.txt").path
        let result = try CLI.run(["pipeline", model, "--targets", "h100,l40s", "--format", "fp8", "--data", text, "--samples", "4",
                                  "--seq-len", "128", "--eval-text", text, "--out", out.path] + settings)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let artefacts = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("artefacts").path).sorted()
        #expect(artefacts == ["bard-5m-FP8-CH-STATIC"], "one FP8 artefact, gated for Hopper and (with --format fp8) Ada")
        let report = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("report/report.json"))) as? [String: Any])
        let candidates = try #require(report["candidates"] as? [[String: Any]])
        #expect(candidates.compactMap { $0["target"] as? String } == ["h100", "l40s"])
        #expect(candidates.first?["format"] as? String == "compressed-tensors")
        let checks = (candidates.first?["structural"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(checks.contains("quantized-tensors") && checks.contains("scales"), "\(checks)")
        let config = try String(contentsOfFile: out.appendingPathComponent("artefacts/bard-5m-FP8-CH-STATIC/config.json").path, encoding: .utf8)
        #expect(config.contains("\"quant_method\": \"compressed-tensors\""))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report/manifest.json").path))
    }

    @Test("pipeline --targets a100,t4 writes one GPTQ directory that passes both gates, with the GPTQ structural checks")
    func pipelineGPTQ() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let settings = try Self.smallSettings(in: directory)
        let text = directory.appendingPathComponent("text.txt").path
        let result = try CLI.run(["pipeline", model, "--targets", "a100,t4", "--data", text, "--samples", "4",
                                  "--seq-len", "128", "--eval-text", text, "--out", out.path] + settings)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let artefacts = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("artefacts").path).sorted()
        #expect(artefacts == ["bard-5m-GPTQ-W4G128-ACT"])
        let report = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("report/report.json"))) as? [String: Any])
        let candidates = try #require(report["candidates"] as? [[String: Any]])
        #expect(candidates.compactMap { $0["target"] as? String } == ["a100", "t4"])
        #expect(candidates.first?["format"] as? String == "gptq")
        let checks = (candidates.first?["structural"] as? [[String: Any]]) ?? []
        #expect(checks.filter { ["quantized-tensors", "scales"].contains($0["name"] as? String) }.allSatisfy { $0["passed"] as? Bool == true })
        #expect(checks.count >= 6, "\(checks)")
        // The default is static act-order: desc_act false, g_idx in column order, accepted by vLLM's rules.
        let passing = Set(checks.filter { $0["passed"] as? Bool == true }.compactMap { $0["name"] as? String })
        #expect(passing.isSuperset(of: ["group-index", "loads-in-vllm"]), "\(checks)")
        let config = try String(contentsOf: out.appendingPathComponent("artefacts/bard-5m-GPTQ-W4G128-ACT/config.json"), encoding: .utf8)
        #expect(config.contains("\"desc_act\": false") && config.contains("\"act_order\": \"static\""), "\(config)")
    }

    @Test("pipeline --targets l40s,l4 writes one AWQ directory that passes both gates, with the AWQ structural checks")
    func pipelineAWQ() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let settings = try Self.smallSettings(in: directory)
        let text = directory.appendingPathComponent("text.txt").path
        let result = try CLI.run(["pipeline", model, "--targets", "l40s,l4", "--data", text, "--samples", "4",
                                  "--seq-len", "128", "--eval-text", text, "--out", out.path] + settings)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let artefacts = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("artefacts").path).sorted()
        #expect(artefacts == ["bard-5m-AWQ-W4G128"])
        let report = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("report/report.json"))) as? [String: Any])
        let candidates = try #require(report["candidates"] as? [[String: Any]])
        #expect(candidates.compactMap { $0["target"] as? String } == ["l40s", "l4"])
        #expect(candidates.first?["format"] as? String == "awq")
        let checks = (candidates.first?["structural"] as? [[String: Any]]) ?? []
        #expect(checks.filter { ["quantized-tensors", "scales"].contains($0["name"] as? String) }.count == 2)
        #expect(checks.allSatisfy { $0["passed"] as? Bool == true }, "\(checks)")
    }
}

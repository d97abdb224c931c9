import Foundation
import QuantGateTestSupport
import Testing

/// `quantgate quantize --target cpu`, then `inspect` and `eval` of the GGUF file it wrote.
@Suite("quantgate quantize")
struct QuantizeCommandTests {
    let model = Fixtures.root.appendingPathComponent("tiny-llama-linear").path

    @Test("quantize → inspect → eval of the artefact; a second run reuses the calibration cache")
    func endToEnd() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("model.gguf").path
        let imatrix = directory.appendingPathComponent("imatrix.gguf").path
        let arguments = ["quantize", model, "--target", "cpu", "--format", "gguf:q4_k_m", "--data", "prose", "--samples", "4",
                         "--seq-len", "32", "--out", out, "--save-imatrix", imatrix]
        let first = try CLI.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("GGUF Q4_K_M") && first.stdout.contains("importance: calibration data"))
        #expect(first.stderr.contains("calibration cache") && first.stderr.contains("absent"))
        #expect(try CLI.run(arguments).stderr.contains("already exists (pass --force"), "an existing GGUF is kept")
        let second = try CLI.run(arguments + ["--force"])
        #expect(second.stderr.contains(": hit"), "\(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: imatrix))

        let inspect = try CLI.run(["inspect", out, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect((report["tensors"] as? [[String: Any]])?.count == 2 * 16 + 3, "9 matrices, 7 biases and 2 norms per block; embeddings, final norm, head")
        #expect((report["metadata"] as? [String: String])?["general.architecture"] == "\"llama\"")

        let text = directory.appendingPathComponent("text.txt").path
        try String(repeating: "To be, or not to be, that is the question. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let eval = try CLI.run(["eval", out, "--text", text, "--ctx", "64", "--json", "--quiet"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        #expect((result["perplexity"] as? Double ?? 0) > 1)
        // The run's stages, each with its seconds and the peak so far (never above the run's peak).
        let run = try #require(result["run"] as? [String: Any])
        let stages = try #require(run["stages"] as? [[String: Any]])
        #expect(stages.map { $0["name"] as? String } == ["check", "perplexity"])
        let peak = try #require(run["peakRSSBytes"] as? Int)
        #expect(stages.allSatisfy { ($0["seconds"] as? Double ?? -1) >= 0 && ($0["peakRSSBytes"] as? Int ?? .max) <= peak })
    }

    @Test("bad targets, formats and files are usage errors")
    func badInput() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("never-written.gguf").path
        let target = try CLI.run(["quantize", model, "--target", "l4", "--group-size=-1", "--out", out])
        #expect(target.status == 2 && target.stderr.contains("AWQ's GEMM layout"), "\(target.stderr)")
        let unknown = try CLI.run(["quantize", model, "--target", "tpu9", "--out", out])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown target tpu9"), "\(unknown.stderr)")
        let bits = try CLI.run(["quantize", model, "--target", "a100", "--bits", "3", "--out", out])
        #expect(bits.status == 2 && bits.stderr.contains("--bits 3"), "\(bits.stderr)")
        let twice = try CLI.run(["quantize", model, "--target", "a100", "--act-order", "off", "--desc-act", "--out", out])
        #expect(twice.status == 2 && twice.stderr.contains("--desc-act and --act-order"), "\(twice.stderr)")
        let sweep = try CLI.run(["quantize", model, "--target", "a100", "--scale-fitting", "sweep", "--out", out])
        #expect(sweep.status == 2 && sweep.stderr.contains("static act-order fits every group on the original weights"), "\(sweep.stderr)")
        let order = try CLI.run(["quantize", model, "--target", "a100", "--act-order", "desc", "--out", out])
        #expect(order.status == 2 && order.stderr.contains("--act-order"), "\(order.stderr)")
        let imatrix = try CLI.run(["quantize", model, "--target", "a100", "--no-imatrix", "--out", out])
        #expect(imatrix.status == 2 && imatrix.stderr.contains("GPTQ"), "\(imatrix.stderr)")
        let mismatch = try CLI.run(["quantize", model, "--target", "h100", "--format", "gguf:Q8_0", "--out", out])
        #expect(mismatch.status == 2 && mismatch.stderr.contains("runs fp8"), "\(mismatch.stderr)")
        let shard = try CLI.run(["quantize", model, "--target", "h100", "--max-shard-size", "lots", "--out", out])
        #expect(shard.status == 2 && shard.stderr.contains("--max-shard-size"), "\(shard.stderr)")
        let format = try CLI.run(["quantize", model, "--format", "gguf:Q9_X", "--out", out])
        #expect(format.status == 2 && format.stderr.contains("expected gguf:MIXTURE"))
        let notGGUF = try CLI.run(["inspect", Fixtures.golden("numerics_encode.json").path.replacingOccurrences(of: ".json", with: ".gguf")])
        #expect(notGGUF.status == 2)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("--target h100 writes an FP8 directory inspect reads; a NaN weight exits 2 naming the tensor, writing nothing")
    func fp8() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8").path
        let result = try CLI.run(["quantize", model, "--target", "h100", "--data", "prose", "--samples", "4", "--seq-len", "32",
                                  "--ignore", "model.layers.1.mlp.*", "--out", out, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Linears in E4M3") && result.stdout.contains("model.layers.1.mlp.down_proj"), "\(result.stdout)")
        let inspect = try CLI.run(["inspect", out])
        #expect(inspect.status == 0 && inspect.stdout.contains("compressed-tensors: FP8 W8A8"), "\(inspect.stdout)\(inspect.stderr)")
        let again = try CLI.run(["quantize", model, "--target", "h100", "--activations", "dynamic", "--out", out + "/", "--quiet"])
        #expect(again.status == 2 && again.stderr.contains("--force"), "\(again.stderr)")

        // One f32 weight of the fixture turned into NaN, in place in a copy.
        let damaged = directory.appendingPathComponent("damaged")
        try FileManager.default.copyItem(atPath: model, toPath: damaged.path)
        let weights = damaged.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try #require(try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        let entry = try #require(header["model.layers.0.self_attn.v_proj.weight"] as? [String: Any])
        let begin = try #require((entry["data_offsets"] as? [Int])?.first) + 8 + headerLength + 4 * 5
        bytes.replaceSubrange(begin..<(begin + 4), with: [0x00, 0x00, 0xC0, 0x7F])
        try bytes.write(to: weights)
        let bad = directory.appendingPathComponent("bad").path
        let refused = try CLI.run(["quantize", damaged.path, "--target", "h100", "--data", "prose", "--out", bad])
        #expect(refused.status == 2 && refused.stderr.contains("model.layers.0.self_attn.v_proj.weight: element 5 is nan"),
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bad) && !FileManager.default.fileExists(atPath: bad + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: bad + ".calibration.h5"), "refused before calibrating")
        let replaced = try CLI.run(["quantize", model, "--target", "h100", "--activations", "dynamic", "--out", out + "/", "--force", "--quiet"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("fp8.") && !$0.hasSuffix(".h5") }.isEmpty)
    }

    @Test("--target a100 writes a GPTQ directory that eval reads; a second run is byte-identical; a group wider than a Linear is refused")
    func gptq() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (out, again) = (directory.appendingPathComponent("gptq").path, directory.appendingPathComponent("gptq-again").path)
        let arguments = ["quantize", model, "--target", "a100", "--group-size", "16", "--data", "prose", "--samples", "4", "--seq-len", "32"]
        let result = try CLI.run(arguments + ["--out", out, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("GPTQ-W4G16-ACT") && result.stdout.contains("model.layers.1.mlp.down_proj"), "\(result.stdout)")
        let second = try CLI.run(arguments + ["--out", again, "--quiet"])
        #expect(second.status == 0, "\(second.stderr)")
        for file in ["model.safetensors", "config.json", "quantize_config.json", "quantization_report.json"] {
            let (a, b) = (directory.appendingPathComponent("gptq/\(file)"), directory.appendingPathComponent("gptq-again/\(file)"))
            #expect(try Data(contentsOf: a) == Data(contentsOf: b), "\(file) differs between two runs")
        }
        let report = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("gptq/quantization_report.json"))) as? [String: Any])
        let layers = try #require(report["layers"] as? [[String: Any]])
        #expect(layers.count == 14 && layers.allSatisfy { ($0["loss"] as? Double ?? -1) >= 0 && $0["damp"] as? Double == 0.01 })

        let text = directory.appendingPathComponent("text.txt").path
        try String(repeating: "To be, or not to be, that is the question. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let eval = try CLI.run(["eval", out, "--text", text, "--ctx", "64", "--json", "--quiet"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let wide = try CLI.run(["quantize", model, "--target", "a100", "--out", directory.appendingPathComponent("wide").path])
        #expect(wide.status == 2 && wide.stderr.contains("group size 128"), "\(wide.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("wide").path))
        let exists = try CLI.run(arguments + ["--out", out])
        #expect(exists.status == 2 && exists.stderr.contains("--force"), "\(exists.stderr)")
        let rtn = try CLI.run(["quantize", model, "--target", "a100", "--group-size", "16", "--rtn", "--out", out, "--force", "--quiet"])
        #expect(rtn.status == 0 && rtn.stdout.contains("RTN-W4G16"), "\(rtn.stderr)")
    }

    @Test("--target l40s writes an AWQ directory that inspect and eval read; a second run is byte-identical; --rtn is its baseline")
    func awq() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (out, again) = (directory.appendingPathComponent("awq").path, directory.appendingPathComponent("awq-again").path)
        let arguments = ["quantize", model, "--target", "l40s", "--group-size", "32", "--data", "prose", "--samples", "4", "--seq-len", "32"]
        let result = try CLI.run(arguments + ["--out", out, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("AWQ-W4G32") && result.stdout.contains("input_layernorm") && result.stdout.contains("(not scaled)"), "\(result.stdout)")
        let second = try CLI.run(arguments + ["--out", again, "--quiet"])
        #expect(second.status == 0, "\(second.stderr)")
        for file in ["model.safetensors", "config.json", "quantization_report.json"] {
            let (a, b) = (directory.appendingPathComponent("awq/\(file)"), directory.appendingPathComponent("awq-again/\(file)"))
            #expect(try Data(contentsOf: a) == Data(contentsOf: b), "\(file) differs between two runs")
        }
        let inspect = try CLI.run(["inspect", out, "--dump-dequantized", directory.appendingPathComponent("dump").path])
        #expect(inspect.status == 0 && inspect.stdout.contains("AWQ (GEMM): 4-bit with zero points, group 32"), "\(inspect.stdout)\(inspect.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("dump/model.layers.1.mlp.down_proj.weight.f32").path))
        let text = directory.appendingPathComponent("text.txt").path
        try String(repeating: "To be, or not to be, that is the question. ", count: 40).write(toFile: text, atomically: true, encoding: .utf8)
        let eval = try CLI.run(["eval", out, "--text", text, "--ctx", "64", "--json", "--quiet"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let wide = try CLI.run(["quantize", model, "--target", "l4", "--out", directory.appendingPathComponent("wide").path])
        #expect(wide.status == 2 && wide.stderr.contains("group size 128"), "\(wide.stderr)")
        let rtn = try CLI.run(["quantize", model, "--target", "rtx4090", "--group-size", "32", "--rtn", "--out", out, "--force", "--quiet"])
        #expect(rtn.status == 0 && rtn.stdout.contains("AWQ-RTN-W4G32"), "\(rtn.stderr)")
    }
}

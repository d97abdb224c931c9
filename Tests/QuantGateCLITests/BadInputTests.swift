import Foundation
import QuantGateTestSupport
import Testing

/// Broken input never exits 0: a damaged copy of the example model (a NaN weight, a weight stored as
/// integers, special ids outside the vocabulary, an empty vocabulary), bad calibration data, damaged
/// artefacts. Every command refuses with exit 2 (or, for `inspect`'s structural checks, 1) and names the
/// file, tensor or field.
@Suite("broken input never exits 0")
struct BadInputTests {
    static let hamlet = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Calibration/eval/hamlet.txt").path
    /// The tiny f32 model the quantize tests use (seconds per artefact).
    static let tiny = Fixtures.root.appendingPathComponent("tiny-llama-linear")

    /// `result` refused the input: exit 2, stderr containing every one of `fragments`.
    static func refused(_ result: CLI.Result, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "no '\(fragment)' in: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test("12: a NaN or infinite weight is refused by eval, inspect, calibrate and quantize (GGUF too), before any file is written")
    func nonFiniteWeight() throws {
        let model = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: model) }
        try CheckpointDamage.setElement(7, of: "model.layers.0.self_attn.q_proj.weight", to: .nan, in: model)
        let named = "tensor model.layers.0.self_attn.q_proj.weight: element 7 is nan"
        Self.refused(try CLI.run(["eval", model.path, "--text", Self.hamlet, "--ctx", "64"]), named)
        let gated = try CLI.run(["eval", model.path, Fixtures.exampleModel.path, "--text", Self.hamlet, "--ctx", "64"])
        Self.refused(gated, named)
        #expect(!gated.stderr.contains("windows, storing"), "refused before the baseline pass")
        Self.refused(try CLI.run(["inspect", model.path]), named)
        let out = model.appendingPathComponent("out")
        Self.refused(try CLI.run(["calibrate", model.path, "--samples", "2", "--seq-len", "32", "--out", out.path + ".h5"]), named)
        let targets = [["--target", "cpu", "--no-imatrix"], ["--format", "gguf:F16"], ["--target", "h100", "--activations", "dynamic"],
                       ["--target", "a100", "--rtn", "--group-size", "32"], ["--target", "l40s", "--rtn", "--group-size", "32"]]
        for arguments in targets {
            Self.refused(try CLI.run(["quantize", model.path] + arguments + ["--out", out.path, "--quiet"]), named)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: model.path).filter { $0.hasPrefix("out") }
        #expect(left.isEmpty, "nothing written: \(left)")

        try CheckpointDamage.setElement(7, of: "model.layers.0.self_attn.q_proj.weight", to: 0.5, in: model)
        try CheckpointDamage.setElement(3, of: "model.norm.weight", to: -.infinity, in: model)
        Self.refused(try CLI.run(["inspect", model.path]), "tensor model.norm.weight: element 3 is -inf")
    }

    @Test("13: a weight stored as I8, I32 or BOOL with the right shape is refused, naming it", arguments: ["I8", "I32", "BOOL"])
    func integerWeight(dtype: String) throws {
        let model = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: model) }
        try CheckpointDamage.store("model.layers.1.mlp.up_proj.weight", as: try #require(DType(rawValue: dtype)), in: model)
        let named = "model.layers.1.mlp.up_proj.weight is \(dtype)"
        let inspect = try CLI.run(["inspect", model.path])
        Self.refused(inspect, named)
        #expect(inspect.stdout.contains("wrong dtype: \(named); weights must be a float dtype"), "\(inspect.stdout)")
        Self.refused(try CLI.run(["eval", model.path, "--text", Self.hamlet, "--ctx", "64"]), named)
        let out = model.appendingPathComponent("out").path
        for arguments in [["--target", "cpu", "--no-imatrix"], ["--target", "h100", "--activations", "dynamic"]] {
            Self.refused(try CLI.run(["quantize", model.path] + arguments + ["--out", out, "--quiet"]), named)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("14: bos_token_id or eos_token_id outside the vocabulary, in config.json or generation_config.json")
    func specialTokenIDs() throws {
        let model = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: model) }
        try CheckpointDamage.setField("bos_token_id", to: "4096", in: model)
        let config = model.appendingPathComponent("config.json").path
        Self.refused(try CLI.run(["inspect", model.path]), "\(config): field 'bos_token_id' holds 4096, outside the vocabulary")
        Self.refused(try CLI.run(["eval", model.path, "--text", Self.hamlet, "--ctx", "64"]), "'bos_token_id'")
        try CheckpointDamage.setField("bos_token_id", to: "0", in: model)
        try CheckpointDamage.setField("eos_token_id", to: "[1, 9999]", in: model, file: "generation_config.json")
        Self.refused(try CLI.run(["calibrate", model.path, "--dry-run"]), "generation_config.json: field 'eos_token_id' holds 9999")
    }

    @Test("14: an empty vocabulary in tokenizer.json")
    func emptyVocabulary() throws {
        let model = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: model) }
        let path = model.appendingPathComponent("tokenizer.json")
        var tokenizer = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        var bpe = try #require(tokenizer["model"] as? [String: Any])
        bpe["vocab"] = [String: Int]()
        tokenizer["model"] = bpe
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: path)
        let message = "\(path.path): field 'model.vocab' is empty"
        Self.refused(try CLI.run(["eval", model.path, "--text", Self.hamlet, "--ctx", "64"]), message)
        Self.refused(try CLI.run(["calibrate", model.path, "--dry-run"]), message)
    }

    @Test("14: calibration data shorter than one --seq-len window (an empty text is one BOS token), naming the data")
    func tooFewCalibrationTokens() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.txt").path
        try Data().write(to: URL(fileURLWithPath: empty))
        let message = "\(empty): 1 token of calibration data, fewer than one window of --seq-len 32"
        Self.refused(try CLI.run(["calibrate", Fixtures.exampleModel.path, "--data", empty, "--seq-len", "32",
                                  "--out", directory.appendingPathComponent("stats.h5").path]), message)
        let out = directory.appendingPathComponent("model.gguf").path
        Self.refused(try CLI.run(["quantize", Self.tiny.path, "--target", "cpu", "--data", empty, "--seq-len", "32", "--out", out]), message)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("14: --seq-len above max_position_embeddings is an error naming both")
    func seqLenBeyondContext() throws {
        let result = try CLI.run(["calibrate", Fixtures.exampleModel.path, "--seq-len", "1024", "--dry-run"])
        Self.refused(result, "--seq-len", "max_position_embeddings (512")
    }

    @Test("15: inspect runs the gate's structural checks on an FP8 artefact: NaN and zero scales exit 1, naming them")
    func inspectFP8Scales() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8")
        let quantize = try CLI.run(["quantize", Self.tiny.path, "--target", "h100", "--activations", "dynamic", "--out", out.path, "--quiet"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let clean = try CLI.run(["inspect", out.path])
        #expect(clean.status == 0 && clean.stdout.contains("Structural checks: OK"), "\(clean.stdout)\(clean.stderr)")
        try CheckpointDamage.setElement(0, of: "model.layers.0.self_attn.q_proj.weight_scale", to: .nan, in: out)
        try CheckpointDamage.setElement(1, of: "model.layers.1.mlp.up_proj.weight_scale", to: 0, in: out)
        let damaged = try CLI.run(["inspect", out.path])
        #expect(damaged.status == 1, "\(damaged.stderr)")
        #expect(damaged.stdout.contains("Structural checks: FAILED") && damaged.stdout.contains("FAILED scales"), "\(damaged.stdout)")
        #expect(damaged.stderr.contains("structural check scales failed: zero, negative or non-finite scale in "
                                        + "model.layers.0.self_attn.q_proj.weight_scale, model.layers.1.mlp.up_proj.weight_scale"),
                "\(damaged.stderr)")
        #expect(damaged.stderr.contains("structural check finite-values failed"), "\(damaged.stderr)")
        let json = try CLI.run(["inspect", out.path, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let checks = try #require(report["structuralChecks"] as? [[String: Any]])
        #expect(json.status == 1 && checks.contains { $0["name"] as? String == "scales" && $0["passed"] as? Bool == false })
    }

    @Test("15: inspect of a GPTQ artefact: a g_idx of 99, and an act-order g_idx under desc_act false, exit 1")
    func inspectGPTQGroupIndex() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("rtn")
        let quantize = try CLI.run(["quantize", Self.tiny.path, "--target", "a100", "--group-size", "32", "--rtn", "--out", out.path, "--quiet"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(try CLI.run(["inspect", out.path]).status == 0)
        let gIdx = "model.layers.0.mlp.down_proj.g_idx"
        try CheckpointDamage.setElement(3, of: gIdx, to: 99, in: out)
        let outOfRange = try CLI.run(["inspect", out.path])
        #expect(outOfRange.status == 1 && outOfRange.stderr.contains("structural check group-index failed: \(gIdx)[3] is 99"),
                "\(outOfRange.stderr)")
        try CheckpointDamage.setElement(3, of: gIdx, to: 1, in: out)
        let actOrder = try CLI.run(["inspect", out.path])
        #expect(actOrder.status == 1, "\(actOrder.stderr)")
        #expect(actOrder.stderr.contains("\(gIdx)[3] is 1, not 0: an act-order g_idx, but desc_act is false"), "\(actOrder.stderr)")
    }

    @Test("15: inspect of a sharded artefact whose model.safetensors.index.json is missing exits 1")
    func inspectMissingShardIndex() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("fp8")
        let quantize = try CLI.run(["quantize", Self.tiny.path, "--target", "h100", "--activations", "dynamic", "--max-shard-size", "20KB",
                                    "--out", out.path, "--quiet"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(try CLI.run(["inspect", out.path]).status == 0)
        try FileManager.default.removeItem(at: out.appendingPathComponent("model.safetensors.index.json"))
        let result = try CLI.run(["inspect", out.path])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("structural check shard-index failed") && result.stderr.contains("no model.safetensors.index.json"),
                "\(result.stderr)")
    }

    @Test("18: a corrupt candidate is reported, exit 2, before the baseline's forward pass")
    func candidatesCheckedFirst() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.gguf").path
        let quantize = try CLI.run(["quantize", Fixtures.exampleModel.path, "--format", "gguf:Q8_0", "--out", good, "--quiet"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let corrupt = directory.appendingPathComponent("corrupt.gguf").path
        try GGUFDamage.truncate(good, by: 4096, to: corrupt)
        let result = try CLI.run(["eval", Fixtures.exampleModel.path, good, corrupt, "--text", Self.hamlet, "--gate", "--target", "cpu"])
        Self.refused(result, "corrupt.gguf")
        #expect(result.stderr.contains("candidate good.gguf: hashing files and structural checks"), "\(result.stderr)")
        #expect(!result.stderr.contains("windows, storing"), "no baseline forward pass: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}

import Foundation
import QuantGateTestSupport
import Testing

/// Flags the chosen artefact would not read are refused (exit 2, naming the flag and the targets), before
/// any work: issue 17's "nothing silently ignored".
@Suite("quantgate refuses flags that do nothing")
struct FlagScopeTests {
    let model = Fixtures.exampleModel.path

    static let cases: [(arguments: [String], flag: String)] = [
        (["--target", "a100", "--ignore", "model.layers.0.*"], "--ignore"),
        (["--target", "cpu", "--ignore", "model.layers.0.*"], "--ignore"),
        (["--target", "l40s", "--bits", "8"], "--bits"),
        (["--target", "cpu", "--weight-scales", "tensor"], "--weight-scales"),
        (["--target", "a100", "--activations", "dynamic"], "--activations"),
        (["--target", "a100", "--calibration", "cache.h5"], "--calibration"),
        (["--target", "l40s", "--calibration", "cache.h5"], "--calibration"),
        (["--target", "h100", "--activations", "dynamic", "--calibration", "cache.h5"], "--calibration"),
        (["--target", "cpu", "--format", "gguf:Q8_0", "--calibration", "cache.h5"], "--calibration"),
        (["--target", "a100", "--group-size", "7"], "--group-size 7"),
        (["--target", "h100", "--group-size", "64"], "--group-size"),
        (["--target", "cpu", "--rtn"], "--rtn"),
        (["--target", "a100", "--no-clip"], "--no-clip"),
        (["--target", "l40s", "--no-desc-act"], "--no-desc-act"),
        (["--target", "l40s", "--act-order", "group"], "--act-order"),
        (["--target", "a100", "--rtn", "--act-order", "group"], "--act-order applies to GPTQ's sweep"),
        (["--target", "a100", "--rtn", "--damp", "0.1"], "--damp applies to GPTQ's sweep"),
        (["--target", "cpu", "--max-shard-size", "1GB"], "--max-shard-size"),
        (["--target", "cpu", "--no-imatrix", "--save-imatrix", "i.gguf"], "--save-imatrix"),
        (["--target", "cpu", "--no-imatrix", "--samples", "8"], "--samples"),
        (["--target", "cpu", "--format", "gguf:Q8_0", "--data", "code"], "--data"),
        (["--target", "h100", "--activations", "dynamic", "--seq-len", "64"], "--seq-len"),
        (["--target", "a100", "--rtn", "--seed", "3"], "--seed"),
        (["--target", "cpu", "--out", "same.gguf", "--save-imatrix", "same.gguf"], "name the same file"),
    ]

    @Test("quantize: each flag outside its artefact is exit 2 naming it, and nothing is written", arguments: cases)
    func quantize(_ testCase: (arguments: [String], flag: String)) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out").path
        let result = try CLI.run(["quantize", model, "--out", out] + testCase.arguments)
        #expect(result.status == 2, "\(testCase.arguments): \(result.stderr)")
        #expect(result.stderr.contains(testCase.flag), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("pipeline: a flag none of the targets reads is refused; one that some target reads is not")
    func pipeline() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("pl").path
        let refused = try CLI.run(["pipeline", model, "--targets", "cpu,a100", "--weight-scales", "tensor", "--out", out])
        #expect(refused.status == 2 && refused.stderr.contains("--weight-scales applies to FP8 artefacts only"), "\(refused.stderr)")
        // --ignore is read by the h100 artefact: validation passes and the run stops at the next refusal (a missing text).
        let accepted = try CLI.run(["pipeline", model, "--targets", "cpu,h100", "--ignore", "model.layers.0.*",
                                    "--eval-text", directory.appendingPathComponent("missing.txt").path, "--out", out])
        #expect(accepted.status == 2 && !accepted.stderr.contains("--ignore") && accepted.stderr.contains("missing.txt"), "\(accepted.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}

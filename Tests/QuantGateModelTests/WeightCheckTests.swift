import Foundation
import QuantGateModel
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// What no source checkpoint may hold: NaN or infinite values, weights in integer dtypes, special token
/// ids outside the vocabulary (``ModelDirectory/validate(progress:)`` and the config readers).
@Suite("Source checkpoint validation")
struct WeightCheckTests {
    @Test("the example model validates, every tensor scanned")
    func exampleModel() throws {
        var scanned: [String] = []
        try ModelDirectory(path: Fixtures.exampleModel.path).validate { _, _, name in scanned.append(name) }
        #expect(scanned.count == 39 && scanned.contains("model.embed_tokens.weight"))
    }

    @Test("a NaN or ±Inf anywhere in a tensor is found, naming the file, tensor and element", arguments: [
        ("model.embed_tokens.weight", 1_000_000, Float.nan),     // the 4th chunk of a 1M-element tensor
        ("model.layers.2.mlp.down_proj.weight", 0, Float.infinity),
        ("model.norm.weight", 255, -Float.infinity),
    ])
    func nonFinite(tensor: String, index: Int, value: Float) throws {
        let directory = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: directory) }
        try CheckpointDamage.setElement(index, of: tensor, to: value, in: directory)
        let model = try ModelDirectory(path: directory.path)
        #expect(model.check().passed, "the header is intact")
        let error = #expect(throws: ModelError.self) { try model.validate() }
        let weights = directory.appendingPathComponent("model.safetensors").path
        #expect(error?.description == "\(weights): tensor \(tensor): element \(index) is \(value); every weight must be finite")
    }

    @Test("the values an exporter is about to write are checked by the same scan")
    func values() throws {
        #expect(throws: Never.self) { try FiniteScan.check([1, -2, 0], tensor: "t", file: "f") }
        let error = #expect(throws: ModelError.self) { try FiniteScan.check([1, 2, .nan, .infinity], tensor: "t", file: "f") }
        #expect(error?.description == "f: tensor t: element 2 is nan; every weight must be finite")
    }

    @Test("a weight stored as I8, I32 or BOOL with the right shape is not a weight", arguments: [DType.int8, .int32, .bool])
    func integerWeight(dtype: DType) throws {
        let directory = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: directory) }
        try CheckpointDamage.store("model.layers.1.self_attn.v_proj.weight", as: dtype, in: directory)
        let model = try ModelDirectory(path: directory.path)
        let check = model.check()
        #expect(!check.passed && check.wrongDType.map(\.name) == ["model.layers.1.self_attn.v_proj.weight"])
        #expect(check.missing.isEmpty && check.unexpected.isEmpty && check.wrongShape.isEmpty)
        let error = #expect(throws: ModelError.self) { try model.validate() }
        #expect(error?.description == "\(directory.path): tensors disagree with config.json: 1 not stored as floats "
                + "(model.layers.1.self_attn.v_proj.weight is \(dtype.rawValue); weights must be a float dtype)")
    }

    @Test("bos_token_id and eos_token_id: an id or a list of ids, each inside the vocabulary", arguments: [
        ("bos_token_id", "4096", "holds 4096, outside the vocabulary (vocab_size 4096: ids 0…4095)"),
        ("eos_token_id", "[1, 70000]", "holds 70000, outside the vocabulary (vocab_size 4096: ids 0…4095)"),
        ("eos_token_id", "-1", "must be a token id (a non-negative integer) or a list of them, got -1.0"),
        ("bos_token_id", "\"<s>\"", "must be a token id (a non-negative integer) or a list of them, got \"<s>\""),
    ])
    func specialTokenIDs(field: String, value: String, reason: String) throws {
        for file in ["config.json", ModelDirectory.generationConfigFileName] {
            let directory = try CheckpointDamage.copy(Fixtures.exampleModel)
            defer { try? FileManager.default.removeItem(at: directory) }
            try CheckpointDamage.setField(field, to: value, in: directory, file: file)
            let path = directory.appendingPathComponent(file).path
            #expect(throws: ModelError.invalidField(file: path, field: field, reason: reason)) {
                try ModelDirectory(path: directory.path)
            }
        }
    }

    @Test("lists of special ids inside the vocabulary, and null, are fine")
    func validSpecialTokenIDs() throws {
        let directory = try CheckpointDamage.copy(Fixtures.exampleModel)
        defer { try? FileManager.default.removeItem(at: directory) }
        try CheckpointDamage.setField("eos_token_id", to: "[1, 2, 4095]", in: directory)
        try CheckpointDamage.setField("bos_token_id", to: "null", in: directory, file: ModelDirectory.generationConfigFileName)
        #expect(throws: Never.self) { try ModelDirectory(path: directory.path) }
    }
}

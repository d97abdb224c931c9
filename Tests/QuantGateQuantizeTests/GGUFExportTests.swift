import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateQuantize
import QuantGateTestSupport
import QuantGateTokenizer
import Testing

/// Checkpoint → GGUF → runtime: names, q/k order, types, tokenizer metadata and importance matrices.
@Suite("GGUF export")
struct GGUFExportTests {
    static func export(_ model: String, _ type: GGUFFileType, importance: ImportanceMatrix? = nil) throws -> (URL, GGUFExportSummary) {
        let directory = try Fixtures.temporaryDirectory()  // the caller removes it
        let path = directory.appendingPathComponent("model.gguf").path
        let summary = try GGUFExporter.export(directory: ModelDirectory(path: modelPath(model, under: directory)),
                                              fileType: type, importance: importance, to: path)
        return (directory, summary)
    }

    /// A fixture's path; `tiny-qwen2-plain-rope` is tiny-qwen2-mqa with its llama3 RoPE scaling removed
    /// (llama.cpp stores that as a rope_freqs tensor, which this exporter does not write yet).
    /// Variants are copies made under `base` (a test's temporary directory, removed with it).
    static func modelPath(_ model: String, under base: URL) throws -> String {
        if model == "tiny-llama-sp-bpe" { return try withSentencePieceTokenizer(under: base) }
        if model == "tiny-llama-llama3-rope" {
            // tiny-llama-linear with Llama 3.1 RoPE scaling instead of linear (weights unchanged).
            let copy = base.appendingPathComponent("llama3-rope-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent("tiny-llama-linear"), to: copy)
            let configURL = copy.appendingPathComponent("config.json")
            var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
            config["rope_scaling"] = nil
            config["rope_parameters"] = ["rope_type": "llama3", "rope_theta": 500_000.0, "factor": 8.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 64]
            try JSONSerialization.data(withJSONObject: config).write(to: configURL)
            return copy.path
        }
        guard model == "tiny-qwen2-plain-rope" else { return Fixtures.root.appendingPathComponent(model).path }
        let copy = base.appendingPathComponent("qwen2-plain-rope-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent("tiny-qwen2-mqa"), to: copy)
        let configURL = copy.appendingPathComponent("config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        config["rope_parameters"] = ["rope_type": "default", "rope_theta": 1_000_000.0]
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        return copy.path
    }

    @Test("an F32 export runs to the same logits as the checkpoint (q/k rows interleaved and restored)",
          arguments: ["bard-5m", "tiny-qwen2-plain-rope", "tiny-llama-linear", "tiny-llama-llama3-rope"])
    func f32RoundTrip(model: String) throws {
        let (directory, _) = try Self.export(model, .f32)
        defer { try? FileManager.default.removeItem(at: directory) }
        let artefact = try GGUFModel(path: directory.appendingPathComponent("model.gguf").path)
        let source = try ModelDirectory(path: Self.modelPath(model, under: directory))
        var expectedConfiguration = source.configuration
        expectedConfiguration.rmsNormEps = Double(Float(expectedConfiguration.rmsNormEps))  // GGUF stores it as FLOAT32
        #expect(artefact.configuration == expectedConfiguration)
        let tokens = Array(artefact.tokenizer.encode("Who's there? Nay, answer me: stand, and unfold yourself.").prefix(48))
        let expected = try LlamaModel(directory: source).logits(tokens: tokens)
        let actual = try LlamaModel(configuration: artefact.configuration, source: artefact.weights).logits(tokens: tokens)
        #expect(actual.values == expected.values)
        let q = try artefact.file.floats(named: "blk.0.attn_q.weight").values
        let original = try source.checkpoint.floats(named: "model.layers.0.self_attn.q_proj.weight")
        #expect(q != original || source.configuration.family == .qwen2, "llama rows are reordered on disk")
    }

    /// tiny-llama-linear's weights with the SentencePiece-style fixture tokenizer (byte fallback, ▁ spaces).
    static func withSentencePieceTokenizer(under base: URL) throws -> String {
        let copy = base.appendingPathComponent("sp-bpe-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent("tiny-llama-linear"), to: copy)
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.removeItem(at: copy.appendingPathComponent(name))
            try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent("tokenizers/sp-bpe/\(name)"),
                                             to: copy.appendingPathComponent(name))
        }
        return copy.path
    }

    @Test("a SentencePiece-style vocabulary exports as llama with merge-rank scores, byte tokens, and reads back exactly")
    func sentencePieceVocabulary() throws {
        let (directory, _) = try Self.export("tiny-llama-sp-bpe", .f16)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try GGUFFile(path: directory.appendingPathComponent("model.gguf").path)
        #expect(file["tokenizer.ggml.model"]?.string == "llama")
        #expect(file["tokenizer.ggml.add_space_prefix"] == .bool(true))
        let types = file["tokenizer.ggml.token_type"]?.array?.compactMap(\.integer) ?? []
        #expect(types[0] == 2 && types[1] == 3 && types[3] == 6 && types[258] == 6 && types[259] == 1 && types[4000] == 5)
        let scores = file["tokenizer.ggml.scores"]?.array?.compactMap(\.number) ?? []
        #expect(scores.count == 4096 && scores.contains(-1) && scores.allSatisfy { $0 <= 0 })
        let rebuilt = try GGUFTokenizerReader.tokenizer(from: file)
        let source = try Tokenizer(directory: Fixtures.root.appendingPathComponent("tokenizers/sp-bpe").path)
        // GGUF cannot carry an added token's `normalized`/`lstrip`/`single_word` flags (llama.cpp matches
        // added tokens in the raw text), so the fixture's three flagged added tokens are left out of the text.
        let text = try String(contentsOf: Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Calibration/eval/hamlet.txt"), encoding: .utf8)
            .replacingOccurrences(of: "Hamlet", with: "Horatio") + " naïve café — 東京 🙂"
        let (expected, actual) = (source.encode(text), rebuilt.encode(text))
        let firstDifference = zip(expected, actual).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(expected.count == actual.count && firstDifference == nil,
                "\(expected.count) vs \(actual.count) ids; first difference at \(firstDifference.map(String.init) ?? "-")")
        #expect(rebuilt.decode(source.encode("Good night, sweet prince"), skipSpecialTokens: true) == "Good night, sweet prince")
    }

    @Test("the GGUF tokenizer gives the source tokenizer's ids on the held-out text")
    func tokenizerMetadata() throws {
        let (directory, _) = try Self.export("bard-5m", .q8_0)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try GGUFFile(path: directory.appendingPathComponent("model.gguf").path)
        #expect(file["tokenizer.ggml.model"]?.string == "gpt2")
        #expect(file["tokenizer.ggml.pre"]?.string == "gpt-2")
        #expect(file["tokenizer.ggml.bos_token_id"] == .uint32(0))
        #expect(file["tokenizer.ggml.add_bos_token"] == .bool(true))
        #expect(file["tokenizer.ggml.tokens"]?.array?.count == 4096)
        let rebuilt = try GGUFTokenizerReader.tokenizer(from: file)
        let source = try Tokenizer(directory: Fixtures.exampleModel.path)
        let text = try String(contentsOf: Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Calibration/eval/hamlet.txt"), encoding: .utf8)
        #expect(rebuilt.encode(text) == source.encode(text))
        #expect(file["general.file_type"] == .uint32(7))
        #expect(file["quantgate.version"] != nil)
        #expect(!file.header.metadata.contains { $0.value.string?.contains(Fixtures.root.path) == true }, "no local paths")
    }

    /// llama-quantize's choices for bard-5m Q4_K_M (4 layers): Q6_K for output, and for attn_v and ffn_down
    /// of layers 2 and 3 (use_more_bits); F32 norms; Q4_K elsewhere. Read from llama-quantize's log.
    @Test("Q4_K_M gives each tensor the type llama-quantize gives it")
    func mixture() throws {
        let (directory, summary) = try Self.export("bard-5m", .q4_K_M)
        defer { try? FileManager.default.removeItem(at: directory) }
        for tensor in summary.tensors {
            let expected: String
            if tensor.name.hasSuffix("norm.weight") {
                expected = "F32"
            } else if tensor.name == "output.weight" || ["blk.2.attn_v", "blk.3.attn_v", "blk.2.ffn_down", "blk.3.ffn_down"]
                .contains(where: { tensor.name.hasPrefix($0) }) {
                expected = "Q6_K"
            } else {
                expected = "Q4_K"
            }
            #expect(tensor.type == expected, "\(tensor.name)")
        }
        #expect(summary.tensors.count == 39)
        #expect(abs(summary.bitsPerWeight - 5.10) < 0.01, "llama-quantize prints 5.10 BPW")
    }

    /// tiny-llama-linear's rows (64 and 128 values) do not fill a 256-value k-quant block: llama.cpp falls
    /// back to Q5_0 for Q4_K and Q8_0 for Q6_K; the file still runs, close to the original.
    @Test("rows shorter than a k-quant block fall back as llama.cpp does, and the file runs")
    func fallback() throws {
        let (directory, summary) = try Self.export("tiny-llama-linear", .q4_K_M)
        defer { try? FileManager.default.removeItem(at: directory) }
        for tensor in summary.tensors where !tensor.name.hasSuffix("norm.weight") && !tensor.name.hasSuffix(".bias") {
            #expect(["Q5_0", "Q8_0"].contains(tensor.type), "\(tensor.name): \(tensor.type)")
        }
        #expect(summary.tensors.first { $0.name == "output.weight" }?.type == "Q8_0")
        #expect(QuantMixture.fallbackType(for: .q4_K, rowLength: 40) == .f16)
        let artefact = try GGUFModel(path: directory.appendingPathComponent("model.gguf").path)
        let tokens = Array(artefact.tokenizer.encode("What's he that wishes so? My cousin Westmoreland?").prefix(24))
        let quantized = try LlamaModel(configuration: artefact.configuration, source: artefact.weights).logits(tokens: tokens)
        let original = try LlamaModel(directory: ModelDirectory(path: Self.modelPath("tiny-llama-linear", under: directory))).logits(tokens: tokens)
        // Random weights at 5 bits: a relative RMS error of a few per cent; a wrong layout would be ~100 %.
        let error = zip(quantized.values, original.values).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let energy = original.values.reduce(0) { $0 + $1 * $1 }
        #expect((error / energy).squareRoot() < 0.1, "relative RMS error \((error / energy).squareRoot())")
    }

    @Test("llama.cpp's own imatrix file reads as mean x², and ours writes back the same values")
    func llamaCppImatrix() throws {
        let matrix = try ImportanceMatrix(llamaCppFile: Fixtures.golden("llamacpp_imatrix_bard-5m.gguf").path)
        #expect(matrix.values.count == 28)
        #expect(matrix.tokens == 32768)
        let q = try #require(matrix.values["blk.0.attn_q.weight"])
        #expect(q.count == 256 && q == matrix.values["blk.0.attn_k.weight"])
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("imatrix.gguf").path
        try matrix.writeLlamaCppFile(to: path, datasets: ["calib.txt"], chunkSize: 512)
        let again = try ImportanceMatrix(llamaCppFile: path)
        #expect(again.tokens == matrix.tokens)
        for (name, values) in matrix.values {
            let other = try #require(again.values[name])
            #expect(zip(values, other).allSatisfy { abs($0 - $1) <= 1e-6 * max(abs($0), 1e-30) }, "\(name)")
        }
        let file = try GGUFFile(path: path)
        #expect(file["general.type"]?.string == "imatrix")
        #expect(file["imatrix.chunk_count"] == .uint32(64) && file["imatrix.chunk_size"] == .uint32(512))
        #expect(file.tensor(named: "blk.0.attn_q.weight.in_sum2")?.shape == [256])
    }

    @Test("llama3 RoPE scaling becomes llama.cpp's rope_freqs tensor (a qwen2 model with it is refused)")
    func llama3RopeFactors() throws {
        #expect(throws: GGUFError.self) { _ = try Self.export("tiny-qwen2-mqa", .f16) }
        let (directory, _) = try Self.export("tiny-llama-llama3-rope", .f16)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try GGUFFile(path: directory.appendingPathComponent("model.gguf").path)
        let factors = try file.floats(named: "rope_freqs.weight").values
        // head_dim 16, θ 500000, factor 8, low 1, high 4, L = 64: the converter's formula by hand.
        let expected: [Float] = (0..<8).map { i in
            let wavelength = 2 * Double.pi / Double(Float(1 / pow(500_000.0, Double(2 * i) / 16)))
            if wavelength < 16 { return 1 }
            if wavelength > 64 { return 8 }
            let s = (64 / wavelength - 1) / 3
            return Float(1 / ((1 - s) / 8 + s))
        }
        #expect(factors == expected)
        #expect(factors.first == 1 && factors.last == 8)
    }

    @Test("an importance matrix of the wrong width is refused, naming the tensor")
    func badImportance() throws {
        let bad = ImportanceMatrix(values: ["blk.0.attn_q.weight": [1, 2, 3]], tokens: 1, source: "test")
        #expect(throws: GGUFError.self) { _ = try Self.export("bard-5m", .q4_K_M, importance: bad) }
    }
}

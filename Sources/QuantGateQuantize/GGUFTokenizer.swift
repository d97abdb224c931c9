import Foundation
import QuantGateFormats
import QuantGateOutput
import QuantGateTensors
import QuantGateTokenizer

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
enum GGUFTokenType: Int32 {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// `tokenizer.ggml.*` metadata from a Hugging Face tokenizer, as llama.cpp's converter writes it.
public enum GGUFTokenizerWriter {
    /// - Parameters:
    ///   - directory: holds tokenizer.json (and tokenizer_config.json).
    ///   - vocabularySize: the model's `vocab_size` (ids the tokenizer does not use become `[PADi]`, unused).
    /// - Throws: ``GGUFError/unsupported(file:field:reason:)`` for a tokenizer llama.cpp cannot reproduce.
    public static func metadata(directory: String, vocabularySize: Int) throws -> [(key: String, value: GGUFValue)] {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("tokenizer.json").path
        let tokenizer = try Tokenizer(directory: directory)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw GGUFError.unreadable(file: path, reason: OutputError.plainReason(error))
        }
        let root = try JSONDecoder().decode(JSONValue.self, from: data)
        guard root["model"]?["type"]?.string == "BPE", let vocabulary = root["model"]?["vocab"]?.object else {
            throw GGUFError.unsupported(file: path, field: "model.type", reason: "only BPE vocabularies are exported")
        }
        var tokens = [String?](repeating: nil, count: vocabularySize)
        var types = [GGUFTokenType](repeating: .unused, count: vocabularySize)
        for (token, id) in vocabulary {
            guard let id = id.int, id >= 0, id < vocabularySize else {
                throw GGUFError.malformed(file: path, field: "model.vocab[\(token)]", reason: "id outside the model's vocab_size \(vocabularySize)")
            }
            tokens[id] = token
            types[id] = .normal
        }
        for added in root["added_tokens"]?.array ?? [] {
            guard let id = added["id"]?.int, let content = added["content"]?.string, id >= 0, id < vocabularySize else { continue }
            tokens[id] = content
            types[id] = added["special"] == .bool(true) ? .control : .userDefined
        }
        let merges: [String] = try (root["model"]?["merges"]?.array ?? []).enumerated().map { index, merge in
            if let text = merge.string { return text }
            if let pair = merge.array, pair.count == 2, let left = pair[0].string, let right = pair[1].string {
                return "\(left) \(right)"
            }
            throw GGUFError.malformed(file: path, field: "model.merges[\(index)]", reason: "is neither \"a b\" nor [a, b]")
        }
        var metadata: [(key: String, value: GGUFValue)] = []
        var scores: [Float]?
        switch tokenizer.preTokenization {
        case .gpt2, .llama3, .qwen2:
            let pre = ["gpt2": "gpt-2", "llama3": "llama-bpe", "qwen2": "qwen2"][tokenizer.preTokenization.rawValue]!
            metadata.append(("tokenizer.ggml.model", .string("gpt2")))
            metadata.append(("tokenizer.ggml.pre", .string(pre)))
        case .sentencePiece where !tokenizer.isByteLevel && root["model"]?["byte_fallback"] == .bool(true):
            // llama.cpp's SPM tokenizer merges the adjacent pair whose joined token scores highest (leftmost
            // on ties). Scoring each token −(rank + 1) of the first merge that makes it reproduces BPE's
            // merge order; tokens no merge makes score 0 (their score is never consulted).
            metadata.append(("tokenizer.ggml.model", .string("llama")))
            metadata.append(("tokenizer.ggml.pre", .string("default")))
            var byName: [String: Int] = [:]
            for (id, token) in tokens.enumerated() { if let token { byName[token] = id } }
            var tokenScores = [Float](repeating: 0, count: vocabularySize)
            var scored = Set<Int>()
            for (rank, merge) in merges.enumerated() {
                guard let space = merge.firstIndex(of: " "), let id = byName[merge.replacingCharacters(in: space...space, with: "")],
                      scored.insert(id).inserted else { continue }
                tokenScores[id] = -Float(rank + 1)
            }
            scores = tokenScores
            for id in tokenizer.byteFallbackTokenIDs where id < vocabularySize { types[id] = .byte }
            if let unknown = tokenizer.unknownTokenID, unknown < vocabularySize { types[unknown] = .unknown }
            let prepends = root["normalizer"].map { Self.contains($0, type: "Prepend") } ?? false
                || (root["pre_tokenizer"].map { Self.contains($0, type: "Metaspace") } ?? false)
            metadata.append(("tokenizer.ggml.add_space_prefix", .bool(prepends)))
        case .sentencePiece, .other:
            throw GGUFError.unsupported(file: path, field: "pre_tokenizer",
                                        reason: "exported vocabularies: byte-level BPE (GPT-2, Llama 3, Qwen 2 splits) and SentencePiece-style BPE with byte fallback")
        }
        metadata.append(("tokenizer.ggml.tokens", .strings(tokens.enumerated().map { $0.element ?? "[PAD\($0.offset)]" })))
        if let scores { metadata.append(("tokenizer.ggml.scores", .float32s(scores))) }
        metadata.append(("tokenizer.ggml.token_type", .int32s(types.map(\.rawValue))))
        // llama.cpp reads merges for gpt2 only; for llama they let QuantGate rebuild the exact BPE.
        metadata.append(("tokenizer.ggml.merges", .strings(merges)))
        if let bos = tokenizer.bosTokenID { metadata.append(("tokenizer.ggml.bos_token_id", .uint32(UInt32(bos)))) }
        if let eos = tokenizer.eosTokenID { metadata.append(("tokenizer.ggml.eos_token_id", .uint32(UInt32(eos)))) }
        if let unknown = tokenizer.unknownTokenID { metadata.append(("tokenizer.ggml.unknown_token_id", .uint32(UInt32(unknown)))) }
        metadata.append(("tokenizer.ggml.add_bos_token", .bool(tokenizer.addsBOS)))
        metadata.append(("tokenizer.ggml.add_eos_token", .bool(tokenizer.addsEOS)))
        let configPath = URL(fileURLWithPath: directory).appendingPathComponent("tokenizer_config.json").path
        if let config = FileManager.default.contents(atPath: configPath),
           let template = (try? JSONDecoder().decode(JSONValue.self, from: config))?["chat_template"]?.string {
            metadata.append(("tokenizer.chat_template", .string(template)))
        }
        return metadata
    }

    /// Whether a tokenizer.json component (or any step of a Sequence inside it) has `type`.
    static func contains(_ component: JSONValue, type: String) -> Bool {
        if component["type"]?.string == type { return true }
        let children = (component["normalizers"] ?? component["pretokenizers"])?.array ?? []
        return children.contains { contains($0, type: type) }
    }
}

/// Rebuilds a ``Tokenizer`` from `tokenizer.ggml.*` metadata: byte-level BPE (`gpt2`), and
/// SentencePiece-style BPE (`llama`) when the file carries its merges (QuantGate's files do).
public enum GGUFTokenizerReader {
    public static func tokenizer(from file: GGUFFile) throws -> Tokenizer {
        func fail(_ field: String, _ reason: String) -> GGUFError { .malformed(file: file.path, field: field, reason: reason) }
        let kind = file["tokenizer.ggml.model"]?.string ?? "missing"
        guard kind == "gpt2" || kind == "llama" else {
            throw GGUFError.unsupported(file: file.path, field: "tokenizer.ggml.model", reason: "'\(kind)' (reads gpt2 and llama vocabularies)")
        }
        guard let tokens = file["tokenizer.ggml.tokens"]?.array?.map({ $0.string ?? "" }) else {
            throw fail("tokenizer.ggml.tokens", "is missing")
        }
        let types = file["tokenizer.ggml.token_type"]?.array?.map { $0.integer ?? 1 } ?? Array(repeating: 1, count: tokens.count)
        guard types.count >= tokens.count else { throw fail("tokenizer.ggml.token_type", "is shorter than the token list") }
        guard let merges = file["tokenizer.ggml.merges"]?.array?.compactMap(\.string) else {
            throw kind == "gpt2" ? fail("tokenizer.ggml.merges", "is missing (required for gpt2)")
                : GGUFError.unsupported(file: file.path, field: "tokenizer.ggml.merges",
                                        reason: "a llama (SentencePiece) vocabulary without merges cannot be rebuilt exactly")
        }
        var vocabulary: [String: JSONValue] = [:]
        var added: [JSONValue] = []
        for (id, token) in tokens.enumerated() {
            switch Int32(types[id]) {
            case GGUFTokenType.unused.rawValue: continue
            case GGUFTokenType.control.rawValue, GGUFTokenType.userDefined.rawValue, GGUFTokenType.unknown.rawValue:
                added.append(.object([
                    "id": .number(Double(id)), "content": .string(token), "single_word": .bool(false), "lstrip": .bool(false),
                    "rstrip": .bool(false), "normalized": .bool(false), "special": .bool(types[id] != 4),
                ]))
            default: break
            }
            vocabulary[token] = .number(Double(id))
        }
        func token(_ key: String) -> String? {
            guard let id = file[key]?.integer, id >= 0, id < tokens.count else { return nil }
            return tokens[id]
        }
        var definition: [String: JSONValue] = ["version": .string("1.0"), "added_tokens": .array(added)]
        var model: [String: JSONValue] = [
            "type": .string("BPE"), "vocab": .object(vocabulary), "merges": .array(merges.map { .string($0) }), "fuse_unk": .bool(false),
        ]
        if kind == "gpt2" {
            let pre = file["tokenizer.ggml.pre"]?.string ?? "default"
            let kinds: [String: Tokenizer.PreTokenization] = ["gpt-2": .gpt2, "llama-bpe": .llama3, "llama3": .llama3, "qwen2": .qwen2]
            guard let split = kinds[pre], let preTokenizer = Tokenizer.byteLevelPreTokenizerJSON(split) else {
                throw GGUFError.unsupported(file: file.path, field: "tokenizer.ggml.pre", reason: "'\(pre)'")
            }
            model["byte_fallback"] = .bool(false)
            model["ignore_merges"] = .bool(split == .llama3)
            definition["pre_tokenizer"] = try JSONDecoder().decode(JSONValue.self, from: Data(preTokenizer.utf8))
            definition["decoder"] = .object([
                "type": .string("ByteLevel"), "add_prefix_space": .bool(true), "trim_offsets": .bool(true), "use_regex": .bool(true),
            ])
        } else {
            // SentencePiece style: spaces are ▁ (one prepended when add_space_prefix), unknown characters become <0xNN> bytes.
            let prepend = file["tokenizer.ggml.add_space_prefix"]?.bool ?? true
            var normalizers: [JSONValue] = prepend ? [.object(["type": .string("Prepend"), "prepend": .string("▁")])] : []
            normalizers.append(.object(["type": .string("Replace"), "pattern": .object(["String": .string(" ")]), "content": .string("▁")]))
            definition["normalizer"] = .object(["type": .string("Sequence"), "normalizers": .array(normalizers)])
            var decoders: [JSONValue] = [
                .object(["type": .string("Replace"), "pattern": .object(["String": .string("▁")]), "content": .string(" ")]),
                .object(["type": .string("ByteFallback")]), .object(["type": .string("Fuse")]),
            ]
            if prepend { decoders.append(.object(["type": .string("Strip"), "content": .string(" "), "start": .number(1), "stop": .number(0)])) }
            definition["decoder"] = .object(["type": .string("Sequence"), "decoders": .array(decoders)])
            model["byte_fallback"] = .bool(true)
            model["fuse_unk"] = .bool(true)
            if let unknown = token("tokenizer.ggml.unknown_token_id") { model["unk_token"] = .string(unknown) }
        }
        definition["model"] = .object(model)
        let configuration = TokenizerConfiguration(
            bosToken: token("tokenizer.ggml.bos_token_id"), eosToken: token("tokenizer.ggml.eos_token_id"),
            addBOSToken: file["tokenizer.ggml.add_bos_token"]?.bool ?? (kind == "llama"),
            addEOSToken: file["tokenizer.ggml.add_eos_token"]?.bool ?? false)
        return try Tokenizer(tokenizerJSON: [UInt8](try JSONEncoder().encode(JSONValue.object(definition))), configuration: configuration,
                             file: "\(file.path) (tokenizer.ggml.*)")
    }
}

import Foundation
import QuantGateFormats
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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GGUFError.unreadable(file: path, reason: "cannot be read")
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
        var metadata: [(key: String, value: GGUFValue)] = []
        switch tokenizer.preTokenization {
        case .gpt2, .llama3, .qwen2:
            let pre = ["gpt2": "gpt-2", "llama3": "llama-bpe", "qwen2": "qwen2"][tokenizer.preTokenization.rawValue]!
            metadata.append(("tokenizer.ggml.model", .string("gpt2")))
            metadata.append(("tokenizer.ggml.pre", .string(pre)))
        case .sentencePiece, .other:
            throw GGUFError.unsupported(file: path, field: "pre_tokenizer",
                                        reason: "only byte-level BPE (GPT-2, Llama 3, Qwen 2 splits) is exported to GGUF so far")
        }
        metadata.append(("tokenizer.ggml.tokens", .strings(tokens.enumerated().map { $0.element ?? "[PAD\($0.offset)]" })))
        metadata.append(("tokenizer.ggml.token_type", .int32s(types.map(\.rawValue))))
        let merges: [String] = try (root["model"]?["merges"]?.array ?? []).enumerated().map { index, merge in
            if let text = merge.string { return text }
            if let pair = merge.array, pair.count == 2, let left = pair[0].string, let right = pair[1].string {
                return "\(left) \(right)"
            }
            throw GGUFError.malformed(file: path, field: "model.merges[\(index)]", reason: "is neither \"a b\" nor [a, b]")
        }
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
}

/// Rebuilds a ``Tokenizer`` from `tokenizer.ggml.*` metadata (byte-level BPE vocabularies).
public enum GGUFTokenizerReader {
    public static func tokenizer(from file: GGUFFile) throws -> Tokenizer {
        func fail(_ field: String, _ reason: String) -> GGUFError { .malformed(file: file.path, field: field, reason: reason) }
        guard file["tokenizer.ggml.model"]?.string == "gpt2" else {
            throw GGUFError.unsupported(file: file.path, field: "tokenizer.ggml.model",
                                        reason: "'\(file["tokenizer.ggml.model"]?.string ?? "missing")' (reads gpt2 vocabularies)")
        }
        let pre = file["tokenizer.ggml.pre"]?.string ?? "default"
        let kinds: [String: Tokenizer.PreTokenization] = ["gpt-2": .gpt2, "llama-bpe": .llama3, "llama3": .llama3, "qwen2": .qwen2]
        guard let kind = kinds[pre], let preTokenizer = Tokenizer.byteLevelPreTokenizerJSON(kind) else {
            throw GGUFError.unsupported(file: file.path, field: "tokenizer.ggml.pre", reason: "'\(pre)'")
        }
        guard let tokens = file["tokenizer.ggml.tokens"]?.array?.map({ $0.string ?? "" }) else {
            throw fail("tokenizer.ggml.tokens", "is missing")
        }
        let types = file["tokenizer.ggml.token_type"]?.array?.map { $0.integer ?? 1 } ?? Array(repeating: 1, count: tokens.count)
        guard types.count >= tokens.count else { throw fail("tokenizer.ggml.token_type", "is shorter than the token list") }
        guard let merges = file["tokenizer.ggml.merges"]?.array?.compactMap(\.string) else {
            throw fail("tokenizer.ggml.merges", "is missing (required for gpt2)")
        }
        var vocabulary: [String: JSONValue] = [:]
        var added: [JSONValue] = []
        for (id, token) in tokens.enumerated() {
            switch Int32(types[id]) {
            case GGUFTokenType.unused.rawValue: continue
            case GGUFTokenType.control.rawValue, GGUFTokenType.userDefined.rawValue:
                added.append(.object([
                    "id": .number(Double(id)), "content": .string(token), "single_word": .bool(false), "lstrip": .bool(false),
                    "rstrip": .bool(false), "normalized": .bool(false), "special": .bool(types[id] == 3),
                ]))
            default: break
            }
            vocabulary[token] = .number(Double(id))
        }
        let model: JSONValue = .object([
            "type": .string("BPE"), "vocab": .object(vocabulary), "merges": .array(merges.map { .string($0) }),
            "byte_fallback": .bool(false), "fuse_unk": .bool(false), "ignore_merges": .bool(kind == .llama3),
        ])
        let decoder: JSONValue = .object([
            "type": .string("ByteLevel"), "add_prefix_space": .bool(true), "trim_offsets": .bool(true), "use_regex": .bool(true),
        ])
        let preTokenizerValue = try JSONDecoder().decode(JSONValue.self, from: Data(preTokenizer.utf8))
        let definition: JSONValue = .object([
            "version": .string("1.0"), "added_tokens": .array(added), "pre_tokenizer": preTokenizerValue,
            "decoder": decoder, "model": model,
        ])
        func token(_ key: String) -> String? {
            guard let id = file[key]?.integer, id >= 0, id < tokens.count else { return nil }
            return tokens[id]
        }
        let configuration = TokenizerConfiguration(
            bosToken: token("tokenizer.ggml.bos_token_id"), eosToken: token("tokenizer.ggml.eos_token_id"),
            addBOSToken: file["tokenizer.ggml.add_bos_token"]?.bool ?? false,
            addEOSToken: file["tokenizer.ggml.add_eos_token"]?.bool ?? false)
        return try Tokenizer(tokenizerJSON: [UInt8](try JSONEncoder().encode(definition)), configuration: configuration,
                             file: "\(file.path) (tokenizer.ggml.*)")
    }
}

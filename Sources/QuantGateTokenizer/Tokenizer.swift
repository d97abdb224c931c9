import Foundation
import QuantGateOutput

/// A tokenizer read from a Hugging Face `tokenizer.json` (and `tokenizer_config.json`), giving
/// the same ids as the Python `tokenizers` library (0.23) for the components it supports: BPE
/// (byte-level or SentencePiece-style with byte fallback), the normalizers, pre-tokenizers,
/// post-processors and decoders listed in ``TokenizerError/supportedComponents``, and added
/// tokens with their `single_word`, `lstrip`, `rstrip` and `normalized` flags.
///
/// `encode` works on the UTF-8 bytes and Unicode scalars of the text, never on `Character`s.
/// A `Tokenizer` is immutable and safe to share between threads (its BPE word cache is locked).
public struct Tokenizer: Sendable {
    private let core: Core

    /// Reads `tokenizer.json` and, when present, `tokenizer_config.json` from a directory.
    /// - Parameter directory: a model directory.
    /// - Throws: ``TokenizerError``: `missingFile` when there is no tokenizer.json, `malformedJSON`,
    ///   `missingField`/`invalidField` naming the file and field, or `unsupportedComponent`.
    public init(directory: String) throws(TokenizerError) {
        let base = URL(fileURLWithPath: directory)
        let tokenizerPath = base.appendingPathComponent("tokenizer.json").path
        let configurationPath = base.appendingPathComponent("tokenizer_config.json").path
        let tokenizerBytes = try Self.read(tokenizerPath)
        var configuration = TokenizerConfiguration()
        if FileManager.default.fileExists(atPath: configurationPath) {
            configuration = try TokenizerConfiguration(json: try Self.read(configurationPath), file: configurationPath)
        }
        try self.init(tokenizerJSON: tokenizerBytes, configuration: configuration, file: tokenizerPath)
    }

    /// Builds a tokenizer from the bytes of a tokenizer.json.
    /// - Parameters:
    ///   - tokenizerJSON: the file's contents.
    ///   - configuration: what tokenizer_config.json says (BOS/EOS names, `add_bos_token`).
    ///   - file: the name used in errors.
    /// - Throws: ``TokenizerError``.
    public init(tokenizerJSON: [UInt8], configuration: TokenizerConfiguration = TokenizerConfiguration(),
                file: String = "tokenizer.json") throws(TokenizerError) {
        let definition = try TokenizerDefinition(json: tokenizerJSON, file: file)
        core = try Core(definition: definition, configuration: configuration, file: file)
    }

    private static func read(_ path: String) throws(TokenizerError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .missingFile(path: path)
        }
        guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "is a directory") }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(path: path, reason: OutputError.plainReason(error))
        }
    }

    /// The token ids of `text`.
    ///
    /// Added tokens are matched first; the text between them is normalized, pre-tokenized and
    /// encoded by the model; then, with `addSpecialTokens`, the post-processor adds its tokens
    /// (BOS for Llama-style tokenizers). When tokenizer.json has no post-processor, the
    /// `add_bos_token`/`add_eos_token` flags of tokenizer_config.json decide instead.
    /// - Parameters:
    ///   - text: any string.
    ///   - addSpecialTokens: apply the post-processor (as `add_special_tokens=True` in Python).
    /// - Returns: the ids, identical to `Tokenizer.encode(text, add_special_tokens=…).ids` of
    ///   the Python `tokenizers` library.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        core.postProcessor.apply(core.encodeWithoutSpecialTokens(text), addSpecialTokens: addSpecialTokens)
    }

    /// The text of some ids, as `tokenizers`' `decode`: ids with no token are dropped, special
    /// tokens too when `skipSpecialTokens`, and the rest go through the decoder (joined with
    /// spaces when there is none).
    /// - Parameters:
    ///   - ids: token ids (out-of-range ids are ignored).
    ///   - skipSpecialTokens: drop special added tokens such as `<s>`.
    /// - Returns: the decoded text; invalid UTF-8 from byte tokens becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(forID: id) else { continue }
            if skipSpecialTokens && core.addedVocabulary.specialContents.contains(token) { continue }
            tokens.append(token)
        }
        guard let decoder = core.decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }

    /// The id of `<s>` (or whatever tokenizer_config.json's `bos_token` names).
    public var bosTokenID: Int? { core.bosTokenID }
    /// The id of tokenizer_config.json's `eos_token`.
    public var eosTokenID: Int? { core.eosTokenID }
    /// The number of distinct tokens, added tokens included (`get_vocab_size()` in Python).
    public var vocabularySize: Int { core.vocabularySize }
    /// Whether `encode(_:addSpecialTokens: true)` puts the BOS token first.
    public var addsBOS: Bool { core.addsBOS }
    /// Whether `encode(_:addSpecialTokens: true)` puts the EOS token last.
    public var addsEOS: Bool { core.addsEOS }
    /// How text is split before BPE, by the recipes other tools name: llama.cpp's `tokenizer.ggml.pre`
    /// and `tokenizer.ggml.model` follow from it.
    public enum PreTokenization: String, Sendable {
        /// GPT-2's regex (a `ByteLevel` pre-tokenizer with `use_regex`).
        case gpt2
        /// Llama 3's regex, then byte-level.
        case llama3
        /// Qwen 2's regex (single digits), then byte-level.
        case qwen2
        /// SentencePiece style: `Metaspace` (or no pre-tokenizer) with `▁` for spaces.
        case sentencePiece
        /// Anything else.
        case other
    }

    /// This tokenizer's ``PreTokenization``.
    public var preTokenization: PreTokenization {
        for step in core.preTokenizer.steps {
            switch step {
            case .split(.gpt2): return .gpt2
            case .split(.llama3): return .llama3
            case .split(.qwen2): return .qwen2
            case .byteLevel(_, useRegex: true): return .gpt2
            case .metaspace: return .sentencePiece
            default: continue
            }
        }
        return core.preTokenizer.steps.isEmpty && !core.model.isByteLevel ? .sentencePiece : .other
    }

    /// The tokenizer.json `pre_tokenizer` object (as JSON text) of a byte-level recipe, for tools that
    /// rebuild a tokenizer.json from another format's vocabulary; nil for the others.
    public static func byteLevelPreTokenizerJSON(_ kind: PreTokenization) -> String? {
        func split(_ regex: String) -> String {
            let escaped = String(decoding: try! JSONEncoder().encode(regex), as: UTF8.self)
            return #"{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"# + escaped
                + #"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}"#
        }
        switch kind {
        case .gpt2: return #"{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}"#
        case .llama3: return split(SplitPattern.llama3Regex)
        case .qwen2: return split(SplitPattern.qwen2Regex)
        case .sentencePiece, .other: return nil
        }
    }

    /// Whether tokens are byte-level (GPT-2's byte alphabet) rather than SentencePiece pieces.
    public var isByteLevel: Bool { core.model.isByteLevel }

    /// The model's `unk_token` id, or nil when it has none.
    public var unknownTokenID: Int? { core.model.unknownID.map(Int.init) }
    /// The `<0xNN>` tokens that byte fallback produces for characters outside the vocabulary
    /// (empty for byte-level and fallback-free vocabularies).
    public var byteFallbackTokenIDs: Set<Int> {
        Set((core.model.byteFallbackIDs ?? []).compactMap { $0.map(Int.init) })
    }
    /// What tokenizer_config.json said (empty when there was none).
    public var configuration: TokenizerConfiguration { core.configuration }

    /// The token string of an id (for byte-level models, in GPT-2's byte alphabet), or nil.
    /// - Parameter id: a token id.
    /// - Returns: the added token's content (its normalized form when it is matched normalized)
    ///   or the model's token.
    public func token(forID id: Int) -> String? {
        if let added = core.addedVocabulary.stringsByID[id] { return added }
        guard id >= 0, id < core.model.tokens.count else { return nil }
        return core.model.tokens[id]
    }

    /// The id of a token string, or nil.
    /// - Parameter token: an added token's content or a model token.
    /// - Returns: its id.
    public func id(forToken token: String) -> Int? {
        core.addedVocabulary.idsByContent[token] ?? core.model.vocabulary[token]
    }
}

extension Tokenizer {
    /// Everything a tokenizer is built from; shared by copies of the struct.
    final class Core: Sendable {
        let normalizer: Normalizer?
        let preTokenizer: PreTokenizer
        let model: BPEModel
        let addedVocabulary: AddedVocabulary
        let postProcessor: PostProcessor
        let decoder: TokenDecoder?
        let configuration: TokenizerConfiguration
        let bosTokenID: Int?
        let eosTokenID: Int?
        let vocabularySize: Int
        let addsBOS: Bool
        let addsEOS: Bool

        init(definition: TokenizerDefinition, configuration: TokenizerConfiguration, file: String) throws(TokenizerError) {
            normalizer = definition.normalizer
            preTokenizer = definition.preTokenizer
            let model = try BPEModel(vocabulary: definition.vocabulary, merges: definition.merges,
                                     options: definition.modelOptions, isByteLevel: definition.preTokenizer.isByteLevel,
                                     file: file)
            let addedVocabulary = AddedVocabulary(tokens: definition.addedTokens, vocabulary: definition.vocabulary,
                                                  normalizer: definition.normalizer)
            self.model = model
            self.addedVocabulary = addedVocabulary
            decoder = definition.decoder
            self.configuration = configuration
            let lookup = { (token: String) -> Int? in addedVocabulary.idsByContent[token] ?? model.vocabulary[token] }
            bosTokenID = configuration.bosToken.flatMap(lookup)
            eosTokenID = configuration.eosToken.flatMap(lookup)
            if let processor = definition.postProcessor {
                postProcessor = processor
            } else {
                var pieces: [PostProcessor.Piece] = []
                if configuration.addBOSToken == true, let bosTokenID { pieces.append(.special([bosTokenID])) }
                pieces.append(.sequence)
                if configuration.addEOSToken == true, let eosTokenID { pieces.append(.special([eosTokenID])) }
                postProcessor = .template(pieces)
            }
            let added = postProcessor.apply([], addSpecialTokens: true)
            addsBOS = bosTokenID != nil && added.first == bosTokenID
            addsEOS = eosTokenID != nil && added.last == eosTokenID && (added.count > 1 || !addsBOS)
            let overlapping = addedVocabulary.idsByContent.keys.filter { model.vocabulary[$0] != nil }.count
            vocabularySize = model.count + addedVocabulary.idsByContent.count - overlapping
        }

        /// Added tokens, normalization, pre-tokenization and the model; no post-processing.
        func encodeWithoutSpecialTokens(_ text: String) -> [Int] {
            var ids: [Int] = []
            ids.reserveCapacity(text.utf8.count / 3 + 4)
            let scalars = ScalarScratch()
            let merges = MergeScratch()
            var text = text
            text.withUTF8 { raw in
                addedVocabulary.split(raw, normalized: false) { range, tokenID in
                    if let tokenID {
                        ids.append(tokenID)
                        return
                    }
                    guard !range.isEmpty else { return }
                    let piece = UnsafeBufferPointer(rebasing: raw[range])
                    let isFirst = range.lowerBound == 0
                    if let normalizer {
                        let normalized = normalizer.apply(Array(piece))
                        normalized.withUnsafeBufferPointer { buffer in
                            encodeNormalized(buffer, isFirst: isFirst, into: &ids, scalars: scalars, merges: merges)
                        }
                    } else {
                        encodeNormalized(piece, isFirst: isFirst, into: &ids, scalars: scalars, merges: merges)
                    }
                }
            }
            return ids
        }

        private func encodeNormalized(_ text: UnsafeBufferPointer<UInt8>, isFirst: Bool, into ids: inout [Int],
                                      scalars: ScalarScratch, merges: MergeScratch) {
            guard addedVocabulary.hasNormalizedTokens else {
                preTokenizer.run(text, isFirst: isFirst, scratch: scalars) { word in
                    model.tokenize(word, into: &ids, scratch: merges)
                }
                return
            }
            addedVocabulary.split(text, normalized: true) { range, tokenID in
                if let tokenID {
                    ids.append(tokenID)
                    return
                }
                guard !range.isEmpty else { return }
                preTokenizer.run(UnsafeBufferPointer(rebasing: text[range]), isFirst: isFirst && range.lowerBound == 0,
                                 scratch: scalars) { word in
                    model.tokenize(word, into: &ids, scratch: merges)
                }
            }
        }
    }
}

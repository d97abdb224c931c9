/// The components of a tokenizer.json, decoded and checked, with errors that name the file and
/// the field path. `truncation` and `padding` are ignored (transformers sets them per call).
struct TokenizerDefinition {
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer
    var vocabulary: [String: Int]
    var merges: [(String, String)]
    var modelOptions: BPEModel.Options
    var addedTokens: [AddedToken]
    /// nil when the file has no post-processor.
    var postProcessor: PostProcessor?
    var decoder: TokenDecoder?

    /// Decodes tokenizer.json bytes; `file` names the file in errors.
    init(json bytes: [UInt8], file: String) throws(TokenizerError) {
        let root = try JSONParser.parse(bytes, file: file)
        let reader = FieldReader(file: file)
        guard case .object = root else {
            throw .invalidField(file: file, field: "(top level)", reason: "is \(root.kind), expected an object")
        }
        if let version = root["version"] {
            guard case .string(let text) = version, text == "1.0" else {
                throw .invalidField(file: file, field: "version", reason: "must be \"1.0\", got \(reader.describe(version))")
            }
        }
        normalizer = try root["normalizer"].map { node throws(TokenizerError) in try reader.normalizer(node, path: "normalizer") }
        preTokenizer = PreTokenizer(steps: try root["pre_tokenizer"].map { node throws(TokenizerError) in
            try reader.preTokenizerSteps(node, path: "pre_tokenizer")
        } ?? [])
        for (index, step) in preTokenizer.steps.enumerated() where index != preTokenizer.steps.count - 1 {
            if case .byteLevel = step {
                throw .unsupportedComponent(kind: "pre_tokenizer", type: "ByteLevel before another pre-tokenizer",
                                            path: "pre_tokenizer")
            }
        }
        guard let model = root["model"] else { throw .missingField(file: file, field: "model") }
        (vocabulary, merges, modelOptions) = try reader.model(model, path: "model")
        addedTokens = try reader.addedTokens(root["added_tokens"], path: "added_tokens")
        postProcessor = try root["post_processor"].map { node throws(TokenizerError) in
            try reader.postProcessor(node, path: "post_processor")
        }
        decoder = try root["decoder"].map { node throws(TokenizerError) in try reader.decoder(node, path: "decoder") }
    }
}

/// Typed access to JSON fields, throwing errors that name the file and field path.
struct FieldReader {
    let file: String
    static let maximumTokenID = 1 << 24

    func describe(_ value: JSONNode) -> String {
        switch value {
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? "\(Int(number))" : "\(number)"
        case .string(let text): "\"\(text)\""
        case .bool(let flag): "\(flag)"
        default: value.kind
        }
    }

    func object(_ node: JSONNode, path: String) throws(TokenizerError) -> [String: JSONNode] {
        guard case .object(let members) = node else {
            throw .invalidField(file: file, field: path, reason: "must be an object, got \(describe(node))")
        }
        return members
    }

    func array(_ node: JSONNode, path: String) throws(TokenizerError) -> [JSONNode] {
        guard case .array(let elements) = node else {
            throw .invalidField(file: file, field: path, reason: "must be an array, got \(describe(node))")
        }
        return elements
    }

    func string(_ node: JSONNode?, path: String) throws(TokenizerError) -> String? {
        guard let node else { return nil }
        guard case .string(let text) = node else {
            throw .invalidField(file: file, field: path, reason: "must be a string, got \(describe(node))")
        }
        return text
    }

    func requiredString(_ node: JSONNode?, path: String) throws(TokenizerError) -> String {
        guard let text = try string(node, path: path) else { throw .missingField(file: file, field: path) }
        return text
    }

    func bool(_ node: JSONNode?, path: String, default fallback: Bool) throws(TokenizerError) -> Bool {
        guard let node else { return fallback }
        guard case .bool(let flag) = node else {
            throw .invalidField(file: file, field: path, reason: "must be true or false, got \(describe(node))")
        }
        return flag
    }

    func integer(_ node: JSONNode?, path: String) throws(TokenizerError) -> Int {
        guard let node else { throw .missingField(file: file, field: path) }
        guard case .number(let number) = node, number == number.rounded(), number >= 0, number < 2_147_483_648 else {
            throw .invalidField(file: file, field: path, reason: "must be an integer in [0, 2^31), got \(describe(node))")
        }
        return Int(number)
    }

    /// A one-character string (Rust `char`).
    func scalar(_ node: JSONNode?, path: String) throws(TokenizerError) -> Unicode.Scalar {
        let text = try requiredString(node, path: path)
        var scalars = text.unicodeScalars.makeIterator()
        guard let first = scalars.next(), scalars.next() == nil else {
            throw .invalidField(file: file, field: path, reason: "must be a single character, got \"\(text)\"")
        }
        return first
    }

    func type(_ node: JSONNode, path: String) throws(TokenizerError) -> String {
        _ = try object(node, path: path)
        return try requiredString(node["type"], path: path + ".type")
    }

    // MARK: Components

    func normalizer(_ node: JSONNode, path: String) throws(TokenizerError) -> Normalizer {
        let type = try type(node, path: path)
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Prepend": return .prepend(try requiredString(node["prepend"], path: path + ".prepend"))
        case "Replace":
            let pattern = try literalPattern(node["pattern"], kind: "normalizer", path: path)
            let content = try requiredString(node["content"], path: path + ".content")
            return .replace(pattern: Array(pattern.utf8), content: Array(content.utf8))
        case "Sequence":
            guard let list = node["normalizers"] else { throw .missingField(file: file, field: path + ".normalizers") }
            var normalizers: [Normalizer] = []
            for (i, element) in try array(list, path: path + ".normalizers").enumerated() {
                normalizers.append(try normalizer(element, path: "\(path).normalizers[\(i)]"))
            }
            return .sequence(normalizers)
        default:
            throw .unsupportedComponent(kind: "normalizer", type: type, path: path)
        }
    }

    /// A `{"String": …}` pattern; `{"Regex": …}` is unsupported.
    private func literalPattern(_ node: JSONNode?, kind: String, path: String) throws(TokenizerError) -> String {
        guard let node else { throw .missingField(file: file, field: path + ".pattern") }
        if let text = try string(node["String"], path: path + ".pattern.String") { return text }
        if node["Regex"] != nil { throw .unsupportedComponent(kind: kind, type: "Replace with a Regex pattern", path: path + ".pattern") }
        throw .invalidField(file: file, field: path + ".pattern", reason: "must be {\"String\": …} or {\"Regex\": …}")
    }

    func preTokenizerSteps(_ node: JSONNode, path: String) throws(TokenizerError) -> [PreTokenizer.Step] {
        let type = try type(node, path: path)
        switch type {
        case "ByteLevel":
            return [.byteLevel(addPrefixSpace: try bool(node["add_prefix_space"], path: path + ".add_prefix_space", default: true),
                               useRegex: try bool(node["use_regex"], path: path + ".use_regex", default: true))]
        case "Split":
            guard let pattern = node["pattern"] else { throw .missingField(file: file, field: path + ".pattern") }
            let behavior = try requiredString(node["behavior"], path: path + ".behavior")
            let invert = try bool(node["invert"], path: path + ".invert", default: false)
            guard let regex = try string(pattern["Regex"], path: path + ".pattern.Regex") else {
                throw .unsupportedComponent(kind: "pre_tokenizer", type: "Split with a String pattern", path: path + ".pattern")
            }
            guard behavior == "Isolated", !invert else {
                throw .unsupportedComponent(kind: "pre_tokenizer", type: "Split with behavior \(behavior)\(invert ? ", inverted" : "")",
                                            path: path)
            }
            guard let known = SplitPattern(regex: regex) else {
                throw .unsupportedComponent(kind: "pre_tokenizer", type: "Split with the regex \(regex)", path: path + ".pattern.Regex")
            }
            return [.split(known)]
        case "Metaspace":
            let replacement = try scalar(node["replacement"], path: path + ".replacement")
            let scheme = try prependScheme(node, path: path)
            let split = try bool(node["split"], path: path + ".split", default: true)
            return [.metaspace(replacement: Array(String(replacement).utf8), prependScheme: scheme, split: split)]
        case "Sequence":
            guard let list = node["pretokenizers"] else { throw .missingField(file: file, field: path + ".pretokenizers") }
            var steps: [PreTokenizer.Step] = []
            for (i, element) in try array(list, path: path + ".pretokenizers").enumerated() {
                steps += try preTokenizerSteps(element, path: "\(path).pretokenizers[\(i)]")
            }
            return steps
        default:
            throw .unsupportedComponent(kind: "pre_tokenizer", type: type, path: path)
        }
    }

    /// Metaspace's `prepend_scheme` (default `always`), or the older `add_prefix_space: false`.
    private func prependScheme(_ node: JSONNode, path: String) throws(TokenizerError) -> PreTokenizer.PrependScheme {
        var scheme = PreTokenizer.PrependScheme.always
        if let text = try string(node["prepend_scheme"], path: path + ".prepend_scheme") {
            guard let parsed = PreTokenizer.PrependScheme(rawValue: text) else {
                throw .invalidField(file: file, field: path + ".prepend_scheme", reason: "must be \"first\", \"never\" or \"always\", got \"\(text)\"")
            }
            scheme = parsed
        }
        if try !bool(node["add_prefix_space"], path: path + ".add_prefix_space", default: true) {
            guard scheme == .never || node["prepend_scheme"] == nil else {
                throw .invalidField(file: file, field: path + ".add_prefix_space", reason: "is false but prepend_scheme is not \"never\"")
            }
            scheme = .never
        }
        return scheme
    }

    func model(_ node: JSONNode, path: String) throws(TokenizerError)
        -> ([String: Int], [(String, String)], BPEModel.Options) {
        _ = try object(node, path: path)
        let type = try string(node["type"], path: path + ".type") ?? "BPE"
        guard type == "BPE" else { throw .unsupportedComponent(kind: "model", type: type, path: path) }
        if case .number(let dropout) = node["dropout"], dropout > 0 {
            throw .unsupportedComponent(kind: "model", type: "BPE with dropout", path: path + ".dropout")
        }
        for field in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let text = try string(node[field], path: "\(path).\(field)"), !text.isEmpty {
                throw .unsupportedComponent(kind: "model", type: "BPE with \(field)", path: "\(path).\(field)")
            }
        }
        guard let vocabNode = node["vocab"] else { throw .missingField(file: file, field: path + ".vocab") }
        var vocabulary: [String: Int] = [:]
        for (token, value) in try object(vocabNode, path: path + ".vocab") {
            let id = try integer(value, path: "\(path).vocab.\(token)")
            // Ids index an array; real vocabularies stay far below this.
            guard id < Self.maximumTokenID else {
                throw .invalidField(file: file, field: "\(path).vocab.\(token)", reason: "is \(id), above the supported maximum id \(Self.maximumTokenID - 1)")
            }
            vocabulary[token] = id
        }
        guard !vocabulary.isEmpty else {
            throw .invalidField(file: file, field: path + ".vocab", reason: "is empty: the tokenizer has no tokens to encode text with")
        }
        guard let mergesNode = node["merges"] else { throw .missingField(file: file, field: path + ".merges") }
        var merges: [(String, String)] = []
        let elements = try array(mergesNode, path: path + ".merges")
        merges.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            let field = "\(path).merges[\(i)]"
            switch element {
            case .string(let line):
                if line.hasPrefix("#version") { continue }
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw .invalidField(file: file, field: field, reason: "must be two tokens separated by one space, got \"\(line)\"")
                }
                merges.append((String(parts[0]), String(parts[1])))
            case .array(let pair):
                guard pair.count == 2, case .string(let left) = pair[0], case .string(let right) = pair[1] else {
                    throw .invalidField(file: file, field: field, reason: "must be a pair of strings")
                }
                merges.append((left, right))
            default:
                throw .invalidField(file: file, field: field, reason: "must be a string or a pair of strings, got \(describe(element))")
            }
        }
        let options = BPEModel.Options(
            unknownToken: try string(node["unk_token"], path: path + ".unk_token"),
            fuseUnknown: try bool(node["fuse_unk"], path: path + ".fuse_unk", default: false),
            byteFallback: try bool(node["byte_fallback"], path: path + ".byte_fallback", default: false),
            ignoreMerges: try bool(node["ignore_merges"], path: path + ".ignore_merges", default: false))
        return (vocabulary, merges, options)
    }

    func addedTokens(_ node: JSONNode?, path: String) throws(TokenizerError) -> [AddedToken] {
        guard let node else { return [] }
        var tokens: [AddedToken] = []
        for (i, element) in try array(node, path: path).enumerated() {
            let field = "\(path)[\(i)]"
            _ = try object(element, path: field)
            let special = try bool(element["special"], path: field + ".special", default: false)
            tokens.append(AddedToken(
                content: try requiredString(element["content"], path: field + ".content"),
                singleWord: try bool(element["single_word"], path: field + ".single_word", default: false),
                leftStrip: try bool(element["lstrip"], path: field + ".lstrip", default: false),
                rightStrip: try bool(element["rstrip"], path: field + ".rstrip", default: false),
                normalized: try bool(element["normalized"], path: field + ".normalized", default: !special),
                special: special))
        }
        return tokens
    }

    func postProcessor(_ node: JSONNode, path: String) throws(TokenizerError) -> PostProcessor {
        let type = try type(node, path: path)
        switch type {
        case "ByteLevel":
            return .identity
        case "TemplateProcessing":
            guard let single = node["single"] else { throw .missingField(file: file, field: path + ".single") }
            let specials = try node["special_tokens"].map { node throws(TokenizerError) in
                try object(node, path: path + ".special_tokens")
            } ?? [:]
            var pieces: [PostProcessor.Piece] = []
            for (i, element) in try array(single, path: path + ".single").enumerated() {
                let field = "\(path).single[\(i)]"
                if let sequence = element["Sequence"] {
                    let id = try requiredString(sequence["id"], path: field + ".Sequence.id")
                    guard id == "A" else {
                        throw .invalidField(file: file, field: field + ".Sequence.id", reason: "must be \"A\" in the single template, got \"\(id)\"")
                    }
                    pieces.append(.sequence)
                } else if let special = element["SpecialToken"] {
                    let name = try requiredString(special["id"], path: field + ".SpecialToken.id")
                    guard let entry = specials[name] else {
                        throw .invalidField(file: file, field: field + ".SpecialToken.id", reason: "names '\(name)', which is not in \(path).special_tokens")
                    }
                    guard let idsNode = entry["ids"] else { throw .missingField(file: file, field: "\(path).special_tokens.\(name).ids") }
                    var ids: [Int] = []
                    for (k, id) in try array(idsNode, path: "\(path).special_tokens.\(name).ids").enumerated() {
                        ids.append(try integer(id, path: "\(path).special_tokens.\(name).ids[\(k)]"))
                    }
                    pieces.append(.special(ids))
                } else {
                    throw .invalidField(file: file, field: field, reason: "must be {\"Sequence\": …} or {\"SpecialToken\": …}")
                }
            }
            return .template(pieces)
        case "RobertaProcessing", "BertProcessing":
            func tokenID(_ key: String) throws(TokenizerError) -> Int {
                guard let pair = node[key] else { throw .missingField(file: file, field: "\(path).\(key)") }
                let elements = try array(pair, path: "\(path).\(key)")
                guard elements.count == 2 else {
                    throw .invalidField(file: file, field: "\(path).\(key)", reason: "must be [token, id]")
                }
                return try integer(elements[1], path: "\(path).\(key)[1]")
            }
            return .wrap(first: try tokenID("cls"), last: try tokenID("sep"))
        case "Sequence":
            guard let list = node["processors"] else { throw .missingField(file: file, field: path + ".processors") }
            var processors: [PostProcessor] = []
            for (i, element) in try array(list, path: path + ".processors").enumerated() {
                processors.append(try postProcessor(element, path: "\(path).processors[\(i)]"))
            }
            return .sequence(processors)
        default:
            throw .unsupportedComponent(kind: "post_processor", type: type, path: path)
        }
    }

    func decoder(_ node: JSONNode, path: String) throws(TokenizerError) -> TokenDecoder {
        let type = try type(node, path: path)
        switch type {
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Metaspace":
            return .metaspace(replacement: try scalar(node["replacement"], path: path + ".replacement"),
                              prependFirst: try prependScheme(node, path: path) != .never)
        case "Replace":
            let pattern = try literalPattern(node["pattern"], kind: "decoder", path: path)
            return .replace(pattern: pattern, content: try requiredString(node["content"], path: path + ".content"))
        case "Strip":
            return .strip(content: try scalar(node["content"], path: path + ".content"),
                          start: try integer(node["start"], path: path + ".start"),
                          stop: try integer(node["stop"], path: path + ".stop"))
        case "Sequence":
            guard let list = node["decoders"] else { throw .missingField(file: file, field: path + ".decoders") }
            var decoders: [TokenDecoder] = []
            for (i, element) in try array(list, path: path + ".decoders").enumerated() {
                decoders.append(try decoder(element, path: "\(path).decoders[\(i)]"))
            }
            return .sequence(decoders)
        default:
            throw .unsupportedComponent(kind: "decoder", type: type, path: path)
        }
    }
}

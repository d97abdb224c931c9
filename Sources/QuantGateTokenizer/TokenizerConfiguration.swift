/// The fields of transformers' tokenizer_config.json that the tokenizer uses.
public struct TokenizerConfiguration: Equatable, Sendable {
    /// `bos_token` (a string, or an object with `content`).
    public var bosToken: String?
    /// `eos_token`.
    public var eosToken: String?
    /// `add_bos_token`, when present.
    public var addBOSToken: Bool?
    /// `add_eos_token`, when present.
    public var addEOSToken: Bool?

    /// An empty configuration (no tokenizer_config.json).
    public init(bosToken: String? = nil, eosToken: String? = nil, addBOSToken: Bool? = nil, addEOSToken: Bool? = nil) {
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.addBOSToken = addBOSToken
        self.addEOSToken = addEOSToken
    }

    /// Decodes tokenizer_config.json bytes.
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - file: the file's path, for errors.
    /// - Throws: ``TokenizerError/malformedJSON(file:line:column:reason:)`` or
    ///   ``TokenizerError/invalidField(file:field:reason:)``.
    public init(json bytes: [UInt8], file: String) throws(TokenizerError) {
        let root = try JSONParser.parse(bytes, file: file)
        let reader = FieldReader(file: file)
        guard case .object = root else {
            throw .invalidField(file: file, field: "(top level)", reason: "is \(root.kind), expected an object")
        }
        func special(_ key: String) throws(TokenizerError) -> String? {
            guard let node = root[key] else { return nil }
            if case .string(let text) = node { return text }
            guard case .object = node else {
                throw .invalidField(file: file, field: key, reason: "must be a string or an object with 'content', got \(reader.describe(node))")
            }
            return try reader.requiredString(node["content"], path: key + ".content")
        }
        bosToken = try special("bos_token")
        eosToken = try special("eos_token")
        addBOSToken = try root["add_bos_token"].map { node throws(TokenizerError) in
            try reader.bool(node, path: "add_bos_token", default: false)
        }
        addEOSToken = try root["add_eos_token"].map { node throws(TokenizerError) in
            try reader.bool(node, path: "add_eos_token", default: false)
        }
    }
}

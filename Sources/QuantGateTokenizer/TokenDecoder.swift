/// A tokenizer.json `decoder`: turns the token strings of some ids back into text, step by step
/// as `tokenizers`' `decode_chain` does (each step maps a list of strings to a list of strings;
/// the final list is joined).
indirect enum TokenDecoder: Equatable, Sendable {
    /// Byte-level characters back to bytes (a token with a character outside the alphabet is
    /// kept as its UTF-8), all joined, then invalid UTF-8 replaced by U+FFFD.
    case byteLevel
    /// `replacement` becomes a space, except in the first token with a prepend scheme other than
    /// `never`, where it is removed.
    case metaspace(replacement: Unicode.Scalar, prependFirst: Bool)
    /// Literal string replacement in each token.
    case replace(pattern: String, content: String)
    /// Runs of `<0xNN>` tokens become the text of their bytes, or one U+FFFD per byte when the
    /// run is not valid UTF-8.
    case byteFallback
    /// All tokens joined into one.
    case fuse
    /// Up to `start` leading and `stop` trailing `content` characters removed from each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case sequence([TokenDecoder])

    func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                if let raw = ByteLevel.bytes(ofToken: token) {
                    bytes.append(contentsOf: raw)
                } else {
                    bytes.append(contentsOf: token.utf8)
                }
            }
            return [String(decoding: bytes, as: UTF8.self)]

        case .metaspace(let replacement, let prependFirst):
            return tokens.enumerated().map { index, token in
                var result = ""
                for character in token.unicodeScalars {
                    if character == replacement {
                        if index == 0 && prependFirst { continue }
                        result.unicodeScalars.append(" ")
                    } else {
                        result.unicodeScalars.append(character)
                    }
                }
                return result
            }

        case .replace(let pattern, let content):
            let patternBytes = Array(pattern.utf8)
            let contentBytes = Array(content.utf8)
            return tokens.map { String(decoding: Normalizer.replace(patternBytes, with: contentBytes, in: Array($0.utf8)), as: UTF8.self) }

        case .byteFallback:
            var result: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(validating: pending, as: UTF8.self) {
                    result.append(text)
                } else {
                    result.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = Self.byteToken(token) {
                    pending.append(byte)
                } else {
                    flush()
                    result.append(token)
                }
            }
            flush()
            return result

        case .fuse:
            return [tokens.joined()]

        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let characters = Array(token.unicodeScalars)  // Rust chars are scalars
                var startCut = 0
                for (i, c) in characters.prefix(start).enumerated() {
                    guard c == content else { break }
                    startCut = i + 1
                }
                var stopCut = characters.count
                for i in 0..<min(stop, characters.count) {
                    let index = characters.count - i - 1
                    guard characters[index] == content else { break }
                    stopCut = index
                }
                guard startCut < stopCut else { return "" }
                var result = String.UnicodeScalarView()
                result.append(contentsOf: characters[startCut..<stopCut])
                return String(result)
            }

        case .sequence(let decoders):
            return decoders.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    /// The byte of a `<0xNN>` token (exactly six bytes; the two digits parsed as Rust's
    /// `u8::from_str_radix(_, 16)` does, which also takes a leading `+`).
    static func byteToken(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"), utf8[2] == UInt8(ascii: "x"),
              utf8[5] == UInt8(ascii: ">") else { return nil }
        func digit(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x41 + 10
            case 0x61...0x66: b - 0x61 + 10
            default: nil
            }
        }
        if utf8[3] == UInt8(ascii: "+") { return digit(utf8[4]) }
        guard let high = digit(utf8[3]), let low = digit(utf8[4]) else { return nil }
        return high << 4 | low
    }
}

import Foundation

/// A tokenizer.json `normalizer`, applied to each piece of text between added tokens.
indirect enum Normalizer: Equatable, Sendable {
    case nfc, nfd, nfkc, nfkd
    /// Prepends the string to non-empty text.
    case prepend(String)
    /// Replaces every occurrence of a literal string, left to right, without overlaps.
    case replace(pattern: [UInt8], content: [UInt8])
    case sequence([Normalizer])

    /// The normalized UTF-8 bytes of `text` (valid UTF-8 in, valid UTF-8 out).
    func apply(_ text: [UInt8]) -> [UInt8] {
        switch self {
        case .nfc, .nfd, .nfkc, .nfkd:
            return Self.normalize(text, form: self)
        case .prepend(let prefix):
            return text.isEmpty ? text : Array(prefix.utf8) + text
        case .replace(let pattern, let content):
            return Self.replace(pattern, with: content, in: text)
        case .sequence(let normalizers):
            return normalizers.reduce(text) { $1.apply($0) }
        }
    }

    /// The Unicode version of `tokenizers`' normalization tables (its crate
    /// unicode-normalization-alignments 0.1 predates Unicode 12): scalars assigned later are left
    /// alone, as the unassigned starters they are to it. Normalization is stable for older scalars,
    /// so Foundation's (newer) tables give the same result on the runs between them.
    static let referenceVersion = (major: 11, minor: 0)

    /// Unicode normalization of valid UTF-8 with Foundation, run by run between scalars newer
    /// than ``referenceVersion``.
    static func normalize(_ text: [UInt8], form: Normalizer) -> [UInt8] {
        guard !text.isEmpty else { return text }
        func normalized(_ bytes: ArraySlice<UInt8>) -> String.UTF8View {
            let string = String(decoding: bytes, as: UTF8.self)
            switch form {
            case .nfc: return string.precomposedStringWithCanonicalMapping.utf8
            case .nfd: return string.decomposedStringWithCanonicalMapping.utf8
            // NFKC as NFC(NFKD): Foundation's precomposedStringWithCompatibilityMapping on Linux
            // leaves some compatibility decompositions uncomposed (U+FF76 U+FF9E → U+30AB U+3099
            // instead of U+30AC).
            case .nfkc: return string.decomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping.utf8
            default: return string.decomposedStringWithCompatibilityMapping.utf8
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var runStart = 0
        text.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                let (value, length) = UTF8Scalars.decode(buffer, at: i)
                if value >= 0x300, let scalar = Unicode.Scalar(value), !Self.isInReferenceVersion(scalar) {
                    if runStart < i { result.append(contentsOf: normalized(text[runStart..<i])) }
                    result.append(contentsOf: text[i..<i + length])
                    runStart = i + length
                }
                i += length
            }
        }
        if runStart < text.count { result.append(contentsOf: normalized(text[runStart...])) }
        return result
    }

    private static func isInReferenceVersion(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return (age.major, age.minor) <= referenceVersion
    }

    static func replace(_ pattern: [UInt8], with content: [UInt8], in text: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, text.count >= pattern.count else { return text }
        var result: [UInt8] = []
        result.reserveCapacity(text.count + text.count / 4)
        let first = pattern[0]
        var i = 0
        let last = text.count - pattern.count
        while i < text.count {
            if i <= last, text[i] == first {
                var matches = true
                for k in 1..<pattern.count where text[i + k] != pattern[k] {
                    matches = false
                    break
                }
                if matches {
                    result.append(contentsOf: content)
                    i += pattern.count
                    continue
                }
            }
            result.append(text[i])
            i += 1
        }
        return result
    }
}

/// The character classes the split patterns use (`\p{L}`, `\p{N}`, `\s`), as the regex engines
/// inside `tokenizers` see them, taken from Swift's `Unicode.Scalar.Properties`.
///
/// `tokenizers` 0.23 compiles split patterns with Oniguruma, whose tables are Unicode 16.0, and
/// matches added-token flags with the Rust `regex` crate (Unicode 16.0 too). Swift 6.3 knows
/// Unicode 17.0, which assigned 4 657 new letters and numbers; to those engines they are still
/// unassigned (class "other"). So a scalar whose `age` is newer than ``referenceVersion`` counts as
/// unassigned. With that one rule, the classes agree with Oniguruma's on all 1 112 064 scalars
/// (checked exhaustively by the tests against `Tests/Fixtures/golden/tokenizer_unicode_classes.json`):
/// - `\p{L}`: general category Lu, Ll, Lt, Lm, Lo;
/// - `\p{N}`: Nd, Nl, No;
/// - `\s`: the White_Space property (U+0009–000D, U+0020, U+0085, U+00A0, U+1680, U+2000–200A,
///   U+2028, U+2029, U+202F, U+205F, U+3000).
enum UnicodeClasses {
    static let letter: UInt8 = 0
    static let number: UInt8 = 1
    static let whitespace: UInt8 = 2
    static let other: UInt8 = 3

    /// The Unicode version of the reference engines' tables.
    static let referenceVersion = (major: 16, minor: 0)

    /// The class of a scalar value (``letter``, ``number``, ``whitespace`` or ``other``).
    @inline(__always)
    static func classOf(_ value: UInt32) -> UInt8 {
        value < 0x10000 ? basicPlane[Int(value)] : compute(value)
    }

    /// Classes of U+0000–U+FFFF, computed once.
    static let basicPlane: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }

    static func compute(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value), isAssignedForReference(scalar) else { return other }
        let properties = scalar.properties
        if properties.isWhitespace { return whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return letter
        case .decimalNumber, .letterNumber, .otherNumber: return number
        default: return other
        }
    }

    static func isAssignedForReference(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return (age.major, age.minor) <= referenceVersion
    }

    /// The Rust `regex` crate's `\w`: Alphabetic, marks (Mn, Mc, Me), Nd, Pc, Join_Control.
    static func isWordCharacter(_ value: UInt32) -> Bool {
        if value < 0x80 {
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || value == 0x5F
        }
        guard let scalar = Unicode.Scalar(value), isAssignedForReference(scalar) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// The Rust `regex` crate's `\s` (the White_Space property).
    static func isWhitespace(_ value: UInt32) -> Bool {
        classOf(value) == whitespace
    }
}

/// UTF-8 helpers over bytes that are known to be valid UTF-8 (they come from Swift strings).
enum UTF8Scalars {
    /// The byte length of the scalar whose lead byte is `lead`.
    @inline(__always)
    static func length(lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    /// Decodes the scalar at `index`; returns its value and byte length.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(bytes[index])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12 | UInt32(bytes[index + 2] & 0x3F) << 6
            | UInt32(bytes[index + 3] & 0x3F), 4)
    }

    /// Appends the UTF-8 encoding of a scalar value.
    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        switch value {
        case ..<0x80:
            bytes.append(UInt8(value))
        case ..<0x800:
            bytes.append(UInt8(0xC0 | value >> 6))
            bytes.append(UInt8(0x80 | value & 0x3F))
        case ..<0x10000:
            bytes.append(UInt8(0xE0 | value >> 12))
            bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | value >> 18))
            bytes.append(UInt8(0x80 | value >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | value >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | value & 0x3F))
        }
    }
}

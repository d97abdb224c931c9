import Foundation

/// An output that may not or could not be written, in plain words: the path and what is wrong.
public struct OutputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path the user gave (never a temporary name).
    public let path: String
    /// What is wrong, in words ("already exists (pass --force to replace it)", "cannot be written: …").
    public let reason: String

    /// An error about `path`: its description is "PATH: REASON".
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }

    /// An I/O failure while writing `path`: "cannot write PATH: no space left on device".
    public static func cannotWrite(_ path: String, _ error: any Error) -> OutputError {
        OutputError(path: path, reason: "cannot be written: \(plainReason(error))")
    }

    /// What went wrong in an I/O error, as the C library words it ("no space left on device", "is a
    /// directory"), never a raw `NSCocoaErrorDomain` text; a JSON decoding error as what is wrong at which
    /// field ("is not valid JSON", `missing field "a.b"`); other errors keep their own description.
    public static func plainReason(_ error: any Error) -> String {
        if let error = error as? OutputError { return error.reason }
        if let error = error as? DecodingError { return decodingReason(error) }
        if let code = posixCode(error) { return describe(errno: code) }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? any Error, let code = posixCode(underlying) {
            return describe(errno: code)
        }
        if ns.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileWriteOutOfSpace: return describe(errno: ENOSPC)
            case .fileWriteNoPermission, .fileReadNoPermission: return describe(errno: EACCES)
            case .fileWriteVolumeReadOnly: return describe(errno: EROFS)
            case .fileNoSuchFile, .fileReadNoSuchFile: return describe(errno: ENOENT)
            case .fileWriteFileExists: return describe(errno: EEXIST)
            case .fileWriteInvalidFileName, .fileReadInvalidFileName: return "not a valid file name"
            case .fileReadCorruptFile: return "not readable (damaged)"
            case .fileReadInapplicableStringEncoding: return "not UTF-8 text"
            case .propertyListReadCorrupt: return "is not valid JSON"  // JSONSerialization's parse error
            default: return "I/O error (code \(ns.code))"
            }
        }
        return "\(error)"
    }

    /// The errno of a POSIX error, whether Swift's `POSIXError` (Foundation's underlying errors on Linux)
    /// or an `NSError` in `NSPOSIXErrorDomain`.
    private static func posixCode(_ error: any Error) -> Int32? {
        if let posix = error as? POSIXError { return posix.code.rawValue }
        let ns = error as NSError
        return ns.domain == NSPOSIXErrorDomain ? Int32(ns.code) : nil
    }

    /// A `JSONDecoder` failure in words, naming the field by its path (`targets.cpu`, `files[2].path`).
    private static func decodingReason(_ error: DecodingError) -> String {
        func field(_ path: [any CodingKey]) -> String {
            path.enumerated().map { index, key in
                key.intValue.map { "[\($0)]" } ?? (index == 0 ? key.stringValue : "." + key.stringValue)
            }.joined()
        }
        func kind(_ type: Any.Type) -> String {
            if type is any BinaryInteger.Type { return "a whole number" }
            if type is any BinaryFloatingPoint.Type { return "a number" }
            switch ObjectIdentifier(type) {
            case ObjectIdentifier(String.self): return "a string"
            case ObjectIdentifier(Bool.self): return "true or false"
            case ObjectIdentifier([String: Any].self): return "a JSON object"
            case ObjectIdentifier([Any].self): return "a JSON array"
            default: return "another kind of value"
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \"\(field(context.codingPath + [key]))\""
        case .typeMismatch(let type, let context) where context.codingPath.isEmpty,
             .valueNotFound(let type, let context) where context.codingPath.isEmpty:
            return "is not \(kind(type))"
        case .typeMismatch(let type, let context):
            return "field \"\(field(context.codingPath))\" has the wrong type (expected \(kind(type)))"
        case .valueNotFound(let type, let context):
            return "field \"\(field(context.codingPath))\" is null (expected \(kind(type)))"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "is not valid JSON"
        case .dataCorrupted(let context):
            return "field \"\(field(context.codingPath))\" holds an invalid value"
        @unknown default:
            return "is not valid JSON"
        }
    }

    /// `strerror` in lower case: "no space left on device".
    public static func describe(errno code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}

import Foundation

/// The JSON form of reports and manifests: pretty-printed, keys sorted, so equal content gives equal bytes.
public enum ReportJSON {
    /// Encodes any report value.
    public static func string(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// Reads an eval report.
    /// - Throws: ``ReportError`` for a missing file, bad JSON, or another schema.
    public static func read(path: String) throws -> EvalReport {
        let report: EvalReport = try decode(path: path, what: "eval report")
        guard report.schema == EvalReport.currentSchema else {
            throw ReportError("\(path): schema \(report.schema) is not \(EvalReport.currentSchema)")
        }
        return report
    }

    static func decode<T: Decodable>(path: String, what: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError("\(path): no such file or cannot be read") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw ReportError("\(path): not a QuantGate \(what): missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))")
        } catch DecodingError.typeMismatch(_, let context) {
            throw ReportError("\(path): not a QuantGate \(what): wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw ReportError("\(path): not a QuantGate \(what) (\(error.localizedDescription))")
        }
    }
}

/// Text files written whole or not at all: `FILE.partial` in the same directory, then a rename.
public enum AtomicFile {
    /// Writes `text` to `path`, creating the parent directory.
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let partial = url.appendingPathExtension("partial")
            try Data(text.utf8).write(to: partial)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: partial, to: url)
        } catch {
            throw ReportError("\(path): cannot be written: \(error.localizedDescription)")
        }
    }
}

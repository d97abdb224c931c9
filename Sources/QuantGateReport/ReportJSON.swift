import Foundation
import QuantGateOutput

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
    /// - Throws: ``ReportError`` for a missing or unreadable file, bad JSON, or another schema, in words.
    public static func read(path: String) throws -> EvalReport {
        let report: EvalReport = try decode(path: path, what: "eval report")
        guard report.schema == EvalReport.currentSchema else {
            throw ReportError("\(path): schema \(report.schema) is not \(EvalReport.currentSchema)")
        }
        return report
    }

    /// Reads `path` as a `T`; `what` names the kind of file in messages ("eval report").
    static func decode<T: Decodable>(path: String, what: String) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw ReportError.unreadable(path, error) }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(T.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty && (try? JSONSerialization.jsonObject(with: data)) != nil {
            // Foundation's decoder reports a whole-number field holding a fraction (or out of range) this way.
            throw ReportError("\(path): not a QuantGate \(what): a field that must be a whole number holds a fraction or is out of range")
        } catch {
            throw ReportError("\(path): not a QuantGate \(what): \(OutputError.plainReason(error))")
        }
    }
}

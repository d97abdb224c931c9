import Foundation
import QuantGateOutput

/// The JSON layer of a safetensors header: decodes the object into raw entries (names, dtype
/// strings, shapes, offsets) and the metadata map, turning every decoding failure into a
/// ``SafetensorsError`` that names the tensor and field. Semantic checks live in ``SafetensorsHeader``.
enum HeaderJSON {
    struct Entry: Equatable {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    struct Decoded {
        var entries: [Entry]
        var metadata: [String: String]
    }

    static func decode(_ json: Data, file: String) throws -> Decoded {
        let decoder = JSONDecoder()
        decoder.userInfo[fileKey] = file
        do {
            return try decoder.decode(HeaderObject.self, from: json).decoded
        } catch let error as SafetensorsError {
            throw error
        } catch let error as DecodingError {
            throw describe(error, file: file)
        } catch {
            throw SafetensorsError.malformedHeader(file: file, reason: OutputError.plainReason(error))
        }
    }

    private static let fileKey = CodingUserInfoKey(rawValue: "file")!

    /// Maps a `DecodingError` to the tensor and field it concerns.
    private static func describe(_ error: DecodingError, file: String) -> SafetensorsError {
        func locate(_ path: [any CodingKey]) -> (tensor: String, field: String)? {
            guard let tensor = path.first?.stringValue, path.count >= 2 else { return nil }
            return (tensor, path.dropFirst().map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined())
        }
        switch error {
        case .dataCorrupted(let context):
            if let place = locate(context.codingPath) {
                return .invalidField(file: file, tensor: place.tensor, field: place.field, reason: "is invalid")
            }
            let detail = (context.underlyingError as NSError?)?.userInfo["NSDebugDescription"] as? String
            return .malformedHeader(file: file, reason: "not valid JSON" + (detail.map { " (\($0))" } ?? ""))
        case .keyNotFound(let key, let context):
            let tensor = context.codingPath.first?.stringValue ?? "?"
            return .invalidField(file: file, tensor: tensor, field: key.stringValue, reason: "is missing")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            if let place = locate(context.codingPath) {
                return .invalidField(
                    file: file, tensor: place.tensor, field: place.field, reason: "is not \(expected(type))")
            }
            if let tensor = context.codingPath.first?.stringValue {
                let what = tensor == SafetensorsHeader.metadataKey ? "a map of strings to strings" : "an object"
                return .invalidField(file: file, tensor: tensor, field: tensor, reason: "is not \(what)")
            }
            return .malformedHeader(file: file, reason: "the header is not a JSON object")
        @unknown default:
            return .malformedHeader(file: file, reason: OutputError.plainReason(error))
        }
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        default: "of the expected type"
        }
    }

    /// Keys of the header object: any tensor name, plus `__metadata__`.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private enum EntryKey: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
    }

    /// A whole number in [0, 2^53]: every byte offset and dimension a real file can have, exact in a Double.
    private static func isIndex(_ value: Double) -> Bool {
        value >= 0 && value <= 9_007_199_254_740_992 && value == value.rounded(.towardZero)
    }

    private struct HeaderObject: Decodable {
        var decoded: Decoded

        init(from decoder: any Decoder) throws {
            let file = decoder.userInfo[HeaderJSON.fileKey] as? String ?? "?"
            let container = try decoder.container(keyedBy: AnyKey.self)
            var entries: [Entry] = []
            var metadata: [String: String] = [:]
            for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {  // deterministic errors
                if key.stringValue == SafetensorsHeader.metadataKey {
                    metadata = try container.decode([String: String].self, forKey: key)
                    continue
                }
                let fields = try container.nestedContainer(keyedBy: EntryKey.self, forKey: key)
                // Numbers are read as Double and checked to be exact integers, so that 2.5, -1 and
                // 2^64 get a message naming the field rather than a generic JSON error.
                let shapeValues = try fields.decode([Double].self, forKey: .shape)
                let offsetValues = try fields.decode([Double].self, forKey: .dataOffsets)
                if let bad = shapeValues.first(where: { !isIndex($0) }) {
                    throw SafetensorsError.invalidField(
                        file: file, tensor: key.stringValue, field: "shape",
                        reason: "has a dimension that is not an integer in [0, 2^53]: \(bad)")
                }
                guard offsetValues.count == 2, offsetValues.allSatisfy(isIndex) else {
                    throw SafetensorsError.invalidField(
                        file: file, tensor: key.stringValue, field: "data_offsets",
                        reason: "must be two integers [begin, end] in [0, 2^53], got \(offsetValues)")
                }
                entries.append(Entry(
                    name: key.stringValue, dtype: try fields.decode(String.self, forKey: .dtype),
                    shape: shapeValues.map { Int($0) }, begin: Int(offsetValues[0]), end: Int(offsetValues[1])))
            }
            decoded = Decoded(entries: entries, metadata: metadata)
        }
    }
}

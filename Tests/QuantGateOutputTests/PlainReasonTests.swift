import Foundation
import QuantGateOutput
import QuantGateTestSupport
import Testing

/// `OutputError.plainReason` on what Foundation throws when reading: strerror's words, and JSON decoding
/// failures as the field at fault.
@Suite("plain reasons for read and decode errors")
struct PlainReasonTests {
    /// The reason for what `body` throws.
    static func reason(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return OutputError.plainReason(error) }
        return nil
    }

    @Test("reading a directory or a missing file, as Data and through a FileHandle")
    func reads() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("gone")
        #expect(Self.reason { _ = try Data(contentsOf: directory) } == "is a directory")
        #expect(Self.reason { _ = try Data(contentsOf: missing) } == "no such file or directory")
        #expect(Self.reason { _ = try FileHandle(forReadingFrom: directory).read(upToCount: 1) } == "is a directory")
        #expect(Self.reason { _ = try FileHandle(forReadingFrom: missing) } == "no such file or directory")
    }

    @Test("JSON decoding: invalid JSON, the wrong top-level kind, a missing or mistyped field named by its path")
    func decoding() {
        struct Item: Decodable { var name: String }
        struct Document: Decodable { var items: [Item]; var count: Int }
        func decode(_ text: String) -> String? { Self.reason { _ = try JSONDecoder().decode(Document.self, from: Data(text.utf8)) } }
        #expect(decode("{") == "is not valid JSON")
        #expect(Self.reason { _ = try JSONSerialization.jsonObject(with: Data("{".utf8)) } == "is not valid JSON")
        #expect(decode("[]") == "is not a JSON object")
        #expect(decode(#"{"items": []}"#) == #"missing field "count""#)
        #expect(decode(#"{"items": [{"name": 3}], "count": 1}"#) == #"field "items[0].name" has the wrong type (expected a string)"#)
        #expect(decode(#"{"items": [], "count": null}"#) == #"field "count" is null (expected a whole number)"#)
    }
}

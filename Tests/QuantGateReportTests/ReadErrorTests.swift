import Foundation
import QuantGateReport
import QuantGateTestSupport
import Testing

/// Report-side reads say what is wrong with the file in words (issue defect 17).
@Suite("report inputs that cannot be read")
struct ReadErrorTests {
    @Test("hashing a directory or a missing file names it and the reason")
    func digest() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("gone").path
        #expect(throws: ReportError("\(directory.path): is a directory")) { try FileDigest.sha256(path: directory.path) }
        #expect(throws: ReportError("\(missing): no such file or directory")) { try FileDigest.sha256(path: missing) }
    }

    @Test("a report whose whole-number field holds a fraction is not called invalid JSON")
    func fraction() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var report = try #require(try JSONSerialization.jsonObject(with: Data(ReportJSON.string(GateTests.report([])).utf8)) as? [String: Any])
        var settings = try #require(report["settings"] as? [String: Any])
        settings["windows"] = 2.5
        report["settings"] = settings
        let path = directory.appendingPathComponent("r.json").path
        try JSONSerialization.data(withJSONObject: report).write(to: URL(fileURLWithPath: path))
        #expect(throws: ReportError("\(path): not a QuantGate eval report: a field that must be a whole number holds a fraction or is out of range")) {
            try ReportJSON.read(path: path)
        }
    }
}

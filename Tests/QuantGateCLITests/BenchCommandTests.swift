import Foundation
import Testing

/// `quantgate bench` runs and reports every conversion; its figures are not asserted (speed is
/// measured by the benchmark, never by tests).
@Suite("quantgate bench")
struct BenchCommandTests {
    @Test("bench numerics --json reports every conversion with positive rates")
    func numerics() throws {
        let result = try CLI.run(["bench", "numerics", "--elements", "4096", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.count == 8)
        #expect(rows.allSatisfy { ($0["bytesPerSecond"] as? Double ?? 0) > 0 && ($0["ratioToMemcpy"] as? Double ?? 0) > 0 })
    }

    @Test("a non-positive size is a usage error")
    func badSize() throws {
        let result = try CLI.run(["bench", "--elements", "0"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--elements must be in 1...268435456"))
    }
}

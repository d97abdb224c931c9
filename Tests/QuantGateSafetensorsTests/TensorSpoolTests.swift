import Foundation
import QuantGateOutput
import QuantGateSafetensors
import QuantGateTestSupport
import Testing

@Suite("Tensor spool")
struct TensorSpoolTests {
    @Test("parked tensors read back byte for byte, in any order and more than once, and the spool leaves no name behind")
    func roundTrip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try TensorSpool(directory: directory.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "unlinked at creation")
        let contents: [[UInt8]] = [(0..<1000).map { UInt8($0 % 251) }, [], (0..<4096).map { UInt8(($0 * 7) % 256) }]
        let parked = try contents.enumerated().map { i, bytes in
            try spool.park(PendingTensor(name: "t\(i)", dtype: .uint8, shape: [bytes.count], data: bytes))
        }
        #expect(spool.byteCount == 5096)
        for i in [2, 0, 1, 2] {
            #expect(parked[i].name == "t\(i)" && parked[i].shape == [contents[i].count] && parked[i].dtype == .uint8)
            #expect(try parked[i].bytes() == contents[i])
        }
    }

    @Test("a directory that cannot hold the spool is named in the error")
    func missingDirectory() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("absent").path
        #expect(throws: OutputError(path: missing, reason: "cannot hold a temporary file: no such file or directory")) {
            try TensorSpool(directory: missing)
        }
    }

    @Test("what a producer throws while parking reaches the caller, and nothing is written")
    func producerFailure() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try TensorSpool(directory: directory.path)
        let failing = PendingTensor(name: "x", dtype: .uint8, shape: [1]) { throw OutputError(path: "x", reason: "broken") }
        #expect(throws: OutputError(path: "x", reason: "broken")) { try spool.park(failing) }
        #expect(spool.byteCount == 0)
    }
}

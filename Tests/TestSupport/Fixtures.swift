@_exported import struct QuantGateTensors.SplitMix64
import Foundation

/// Paths to the committed fixtures, found from this file's location (SwiftPM resources must sit
/// inside a target folder; Tests/Fixtures is shared by several targets).
public enum Fixtures {
    /// `Tests/Fixtures`.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The example model directory.
    public static let exampleModel: URL = root.appendingPathComponent("bard-5m")

    /// A file under `Tests/Fixtures/golden`.
    public static func golden(_ name: String) -> URL { root.appendingPathComponent("golden").appendingPathComponent(name) }

    /// A fresh empty temporary directory, unique per call.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quantgate-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

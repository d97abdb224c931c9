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

/// SplitMix64: the seeded generator shared with the Python golden scripts (Tools/), so both sides
/// derive the same test inputs from a seed without storing them.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
import QuantGateTestSupport
import Testing

/// `quantgate verify MANIFEST DIR` through the executable: the README's deploy step on real pipeline
/// output, and the exit codes for traversal, extra files and bad input.
@Suite("quantgate verify", .serialized)
struct VerifyCommandTests {
    /// A file of known content and SHA-256, for hand-written manifests.
    struct Known {
        var text: String
        var sha256: String
        static let model = Known(text: "GGUF not really a model\n", sha256: "8acde3fba2524605f4ecf60bbf661ad5c197de87629cbd48b102762474f73913")
        static let secret = Known(text: "not yours\n", sha256: "79503cf17d5674036c40b4cf570dec77482768b0316d121402508d5bb144f2aa")
    }

    /// A promotion manifest with one artefact listing `files` (path and content), written to `path`.
    static func writeManifest(_ files: [(path: String, known: Known)], to path: URL) throws {
        let entries = files.map { #"{"path": "\#($0.path)", "bytes": \#($0.known.text.utf8.count), "sha256": "\#($0.known.sha256)"}"# }
        try """
            {"schema": "quantgate.promotion-manifest/1", "toolVersion": "test", "evalTextName": "t", "evalTokensHash": "h", "taskSuites": [],
             "baseline": {"name": "b", "format": "safetensors", "contentHash": "x"},
             "artefacts": [{"name": "m.gguf", "target": "cpu", "format": "gguf", "verdicts": [], "files": [\(entries.joined(separator: ", "))]}]}
            """.write(to: path, atomically: true, encoding: .utf8)
    }

    /// `root/deploy` holding `m.gguf`, with `root/secret.txt` beside it (outside the deploy folder).
    static func deployFolder() throws -> (root: URL, deploy: URL) {
        let root = try Fixtures.temporaryDirectory()
        let deploy = root.appendingPathComponent("deploy")
        try FileManager.default.createDirectory(at: deploy, withIntermediateDirectories: true)
        try Known.model.text.write(to: deploy.appendingPathComponent("m.gguf"), atomically: true, encoding: .utf8)
        try Known.secret.text.write(to: root.appendingPathComponent("secret.txt"), atomically: true, encoding: .utf8)
        return (root, deploy)
    }

    @Test("defect 5: the README's deploy step passes on untouched pipeline output and catches an extra file and a changed byte")
    func readmeDeployStep() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pl = directory.appendingPathComponent("pl")
        let calibration = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Calibration/train/shakespeare")
        let settings = try GateCommandsTests.smallSettings(in: directory)
        let text = directory.appendingPathComponent("text.txt")
        try String(try String(contentsOf: text, encoding: .utf8).prefix(4000)).write(to: text, atomically: true, encoding: .utf8)  // 11 windows: seconds
        let pipeline = try CLI.run(["pipeline", Fixtures.exampleModel.path, "--targets", "cpu,h100", "--data", calibration.path,
                                    "--samples", "4", "--seq-len", "128", "--eval-text", text.path, "--out", pl.path] + settings)
        #expect(pipeline.status == 0, "\(pipeline.stdout)\n\(pipeline.stderr)")
        let manifest = pl.appendingPathComponent("report/manifest.json").path
        let artefacts = pl.appendingPathComponent("artefacts")

        let verified = try CLI.run(["verify", manifest, artefacts.path])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("of 2 artefacts") && verified.stdout.contains("bard-5m-Q4_K_M.gguf"), "\(verified.stdout)")

        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: artefacts.path).first { !$0.hasSuffix(".gguf") })
        let stray = artefacts.appendingPathComponent("\(folder)/evil.py")
        try "import os\n".write(to: stray, atomically: true, encoding: .utf8)
        let extra = try CLI.run(["verify", manifest, artefacts.path])
        #expect(extra.status == 1 && extra.stderr.contains("\(folder)/evil.py: not in the manifest"), "\(extra.stderr)")
        try FileManager.default.removeItem(at: stray)

        let gguf = artefacts.appendingPathComponent("bard-5m-Q4_K_M.gguf")
        var bytes = try Data(contentsOf: gguf)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: gguf)
        let changed = try CLI.run(["verify", manifest, artefacts.path])
        #expect(changed.status == 1 && changed.stderr.contains("bard-5m-Q4_K_M.gguf: SHA-256"), "\(changed.stderr)")
    }

    @Test("defect 6: a manifest path that leaves DIR exits 2, even with the outside file's true hash; so does a symbolic link")
    func traversalExits2() throws {
        let (root, deploy) = try Self.deployFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = root.appendingPathComponent("manifest.json")
        for path in ["../secret.txt", root.appendingPathComponent("secret.txt").path, "../../../../etc/passwd"] {
            try Self.writeManifest([("m.gguf", .model), (path, .secret)], to: manifest)
            let result = try CLI.run(["verify", manifest.path, deploy.path])
            #expect(result.status == 2 && result.stderr.contains("files[1].path \"\(path)\""), "\(path): \(result.stderr)")
        }
        try FileManager.default.createSymbolicLink(atPath: deploy.appendingPathComponent("notes.txt").path, withDestinationPath: "../secret.txt")
        try Self.writeManifest([("m.gguf", .model), ("notes.txt", .secret)], to: manifest)
        let linked = try CLI.run(["verify", manifest.path, deploy.path])
        #expect(linked.status == 2 && linked.stderr.contains("notes.txt: a symbolic link"), "\(linked.stderr)")
    }

    @Test("defect 7: an empty file list and a missing DIR exit 2; an extra file exits 1 naming it; success counts files and artefacts")
    func failsClosed() throws {
        let (root, deploy) = try Self.deployFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let manifest = root.appendingPathComponent("manifest.json")
        try Self.writeManifest([], to: manifest)
        let empty = try CLI.run(["verify", manifest.path, deploy.path])
        #expect(empty.status == 2 && empty.stderr.contains("lists no file"), "\(empty.stderr)")

        try Self.writeManifest([("m.gguf", .model)], to: manifest)
        let verified = try CLI.run(["verify", manifest.path, deploy.path])
        #expect(verified.status == 0 && verified.stdout.contains("exactly the 1 file of 1 artefact"), "\(verified.stdout)\(verified.stderr)")
        try "x\n".write(to: deploy.appendingPathComponent("evil.py"), atomically: true, encoding: .utf8)
        let extra = try CLI.run(["verify", manifest.path, deploy.path])
        #expect(extra.status == 1 && extra.stderr.contains("evil.py: not in the manifest"), "\(extra.stderr)")

        let missing = try CLI.run(["verify", manifest.path, root.appendingPathComponent("gone").path])
        #expect(missing.status == 2 && missing.stderr.contains("gone: no such directory"), "\(missing.stderr)")
        let noManifest = try CLI.run(["verify", root.appendingPathComponent("none.json").path, deploy.path])
        #expect(noManifest.status == 2 && noManifest.stderr.contains("none.json") && !noManifest.stderr.contains("NSCocoaErrorDomain"),
                "\(noManifest.stderr)")
    }
}

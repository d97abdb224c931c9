import Foundation
import QuantGateFormats
import QuantGateReport
import QuantGateTestSupport
import Testing

/// Policy files (YAML/JSON) and promotion manifests.
@Suite("Policy files and manifests")
struct PolicyAndManifestTests {
    static func write(_ text: String, _ name: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the built-in policy renders to YAML that loads back equal; TARGETS.md's numbers are in it")
    func roundTrip() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.write(GatePolicy.defaults.yaml(), "policy.yaml", in: directory)
        #expect(try GatePolicy.load(path: path) == GatePolicy.defaults)
        let h100 = try GatePolicy.defaults.thresholds(forTarget: "H100")
        #expect(h100.perplexityDeltaPercent == 1.0 && h100.meanKLD == 0.005 && h100.top1AgreementPercent == 96 && h100.taskAccuracyDeltaPoints == -1)
        #expect(try GatePolicy.defaults.thresholds(forTarget: "t4") == GatePolicy.defaults.thresholds(forTarget: "a100"))
    }

    @Test("a partial entry keeps the target's defaults; JSON is read too")
    func partialEntries() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let yaml = try Self.write("version: 1\ninconclusive: pass\ntargets:\n  cpu:\n    mean_kld: 0.01\n    tasks: {hamlet-cloze: -5}\n  T4:\n    top1_agreement_pct: 80\n",
                                  "p.yaml", in: directory)
        let policy = try GatePolicy.load(path: yaml)
        let cpu = try policy.thresholds(forTarget: "cpu")
        #expect(cpu.meanKLD == 0.01 && cpu.perplexityDeltaPercent == 5 && cpu.taskOverrides == ["hamlet-cloze": -5] && cpu.inconclusive == .pass)
        let t4 = try policy.thresholds(forTarget: "t4")
        #expect(t4.top1AgreementPercent == 80 && t4.meanKLD == 0.06)
        let json = try Self.write(#"{"version": 1, "targets": {"cpu": {"p99_kld": 0.2}}}"#, "p.json", in: directory)
        #expect(try GatePolicy.load(path: json).thresholds(forTarget: "cpu").p99KLD == 0.2)
    }

    @Test("strict errors name the file and the key path")
    func strictErrors() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases = [
            ("version: 1\ntargets:\n  cpu:\n    mean_kdl: 0.1\n", "targets.cpu.mean_kdl: unknown key"),
            ("version: 1\ntargets:\n  cpu:\n    mean_kld: lots\n", "targets.cpu.mean_kld: must be a number"),
            ("version: 2\ntargets: {}\n", "version: 2 is not supported"),
            ("targets: {}\n", "version: missing"),
            ("version: 1\ntargets:\n  cpu:\n    smoke: maybe\n", "targets.cpu.smoke: must be required or optional"),
            ("version: 1\ninconclusive: perhaps\n", "inconclusive: must be fail or pass"),
            ("version: 1\ntargets:\n  cpu:\n    task_accuracy_delta_pt: 3\n", "targets.cpu.task_accuracy_delta_pt: 3.0 is outside -100...0"),
            ("version: 1\ntargets:\n  cpu:\n    top1_agreement_pct: 0.9e3\n", "targets.cpu.top1_agreement_pct: 900.0 is outside 0...100"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let path = try Self.write(text, "bad\(index).yaml", in: directory)
            do {
                _ = try GatePolicy.load(path: path)
                Issue.record("\(text) was accepted")
            } catch let error as ReportError {
                #expect(error.description.contains(path) && error.description.contains(expected), "\(error)")
            }
        }
    }

    @Test("the manifest lists only passing candidates; verify catches a changed byte and a missing file")
    func manifest() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artefact = directory.appendingPathComponent("model.gguf")
        try Data((0..<5000).map { UInt8($0 % 251) }).write(to: artefact)
        var report = GateTests.report(GateTests.kld(0.01, 0.005, 0.015))
        report.candidates[0].files = try ArtefactFiles.list(path: artefact.path)
        var failing = report.candidates[0]
        failing.name = "other.gguf"
        failing.metrics = GateTests.kld(0.5, 0.4, 0.6)
        report.candidates.append(failing)
        let gate = try Gate.decide(report: report, policy: GateTests.policy, target: nil)
        let manifest = try #require(PromotionManifest.make(report: report, gate: gate))
        #expect(manifest.artefacts.map(\.name) == [report.candidates[0].name])
        #expect(manifest.artefacts[0].files[0].sha256 == (try FileDigest.sha256(path: artefact.path)))
        let reportFolder = try Fixtures.temporaryDirectory()  // beside the artefact, the manifest would be an unlisted file
        defer { try? FileManager.default.removeItem(at: reportFolder) }
        let path = try Self.write(try manifest.json(), "manifest.json", in: reportFolder)
        #expect(try ManifestVerifier.verify(manifestPath: path, directory: directory.path).problems.isEmpty)
        var bytes = try Data(contentsOf: artefact)
        bytes[100] ^= 1
        try bytes.write(to: artefact)
        #expect(try ManifestVerifier.verify(manifestPath: path, directory: directory.path).problems.first?.reason.contains("SHA-256") == true)
        try FileManager.default.removeItem(at: artefact)
        #expect(try ManifestVerifier.verify(manifestPath: path, directory: directory.path).problems.first?.reason.contains("missing") == true)
        // No passing candidate, no manifest.
        report.candidates.removeFirst()
        #expect(PromotionManifest.make(report: report, gate: try Gate.decide(report: report, policy: GateTests.policy, target: nil)) == nil)
    }
}

import Foundation
import QuantGateTestSupport
import Testing

/// Issue 17's data-loss cases through the executable: an existing file or directory is never replaced
/// without --force, a directory QuantGate did not write never, concurrent writers cannot corrupt, a full
/// disk is exit 2 in plain words, and nothing is left behind on an error.
@Suite("quantgate never loses a user's data", .serialized)
struct OutputSafetyTests {
    let model = Fixtures.exampleModel.path
    static let text = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Calibration/eval/hamlet.txt").path
    static let calibration = ["--data", Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
                                .appendingPathComponent("Calibration/train/shakespeare").path, "--samples", "4", "--seq-len", "128"]

    /// A directory `v` holding `sub/f`, the issue's example of a user's directory.
    static func userDirectory(in root: URL) throws -> URL {
        let directory = root.appendingPathComponent("v")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: directory.appendingPathComponent("sub/f"))
        return directory
    }

    static func entries(_ directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    @Test("an existing directory given as a file output is refused, with or without --force, and survives")
    func directoryAsFileOutput() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let user = try Self.userDirectory(in: root)
        let q8 = root.appendingPathComponent("q8.gguf").path
        let runs: [[String]] = [
            ["calibrate", model, "--out", user.path] + Self.calibration,
            ["calibrate", model, "--out", user.path, "--force"] + Self.calibration,
            ["quantize", model, "--target", "cpu", "--out", user.path] + Self.calibration,
            ["quantize", model, "--target", "cpu", "--out", user.path, "--force"] + Self.calibration,
            ["quantize", model, "--target", "cpu", "--out", q8, "--save-imatrix", user.path] + Self.calibration,
            ["eval", model, model, "--text", Self.text, "--baseline-cache", user.path],
            ["eval", model, model, "--text", Self.text, "--baseline-cache", user.path, "--force"],
        ]
        for arguments in runs {
            let result = try CLI.run(arguments + ["--quiet"])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("\(user.path): is a directory"), "\(arguments): \(result.stderr)")
            #expect(try String(contentsOf: user.appendingPathComponent("sub/f"), encoding: .utf8) == "x")
        }
        #expect(Self.entries(root) == ["v"])
    }

    @Test("an existing file is replaced only with --force; the weights of a model are never a calibration cache")
    func existingFiles() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let copy = root.appendingPathComponent("model")
        try FileManager.default.copyItem(at: Fixtures.exampleModel, to: copy)
        let weights = copy.appendingPathComponent("model.safetensors")
        let before = try Data(contentsOf: weights)
        let calibrate = try CLI.run(["calibrate", copy.path, "--out", weights.path, "--quiet"] + Self.calibration)
        #expect(calibrate.status == 2)
        #expect(calibrate.stderr.contains("is not a calibration file QuantGate can reuse") && calibrate.stderr.contains("--force"))
        #expect(try Data(contentsOf: weights) == before)

        let gguf = root.appendingPathComponent("existing.gguf")
        try Data("not yours to delete".utf8).write(to: gguf)
        let quantize = ["quantize", model, "--format", "gguf:Q8_0", "--out", gguf.path, "--quiet"]
        let refused = try CLI.run(quantize)
        #expect(refused.status == 2 && refused.stderr.contains("already exists (pass --force"))
        #expect(try String(contentsOf: gguf, encoding: .utf8) == "not yours to delete")
        #expect(try CLI.run(quantize + ["--force"]).status == 0)
        #expect(try Data(contentsOf: gguf).prefix(4) == Data("GGUF".utf8))

        let notes = root.appendingPathComponent("notes.txt")
        try Data("my notes".utf8).write(to: notes)
        let baseline = try CLI.run(["eval", model, model, "--text", Self.text, "--baseline-cache", notes.path, "--quiet"])
        #expect(baseline.status == 2 && baseline.stderr.contains("is not a QuantGate baseline file (") && baseline.stderr.contains("pass --force"), "\(baseline.stderr)")
        let dump = try CLI.run(["inspect", gguf.path, "--dump-dequantized", notes.path])
        #expect(dump.status == 2 && dump.stderr.contains("is not a directory"), "\(dump.stderr)")
        #expect(try String(contentsOf: notes, encoding: .utf8) == "my notes")
        #expect(Self.entries(root) == ["existing.gguf", "model", "notes.txt"])
    }

    @Test("--force replaces a model directory QuantGate wrote, never a user's directory")
    func forceOnDirectories() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let user = try Self.userDirectory(in: root)
        let fp8 = ["quantize", model, "--target", "h100", "--activations", "dynamic", "--quiet"]
        let foreign = try CLI.run(fp8 + ["--out", user.path, "--force"])
        #expect(foreign.status == 2 && foreign.stderr.contains("QuantGate did not write"), "\(foreign.stderr)")
        let report = try CLI.run(["eval", model, model, "--text", Self.text, "--report", user.path, "--force", "--quiet"])
        #expect(report.status == 2 && report.stderr.contains("QuantGate did not write"), "\(report.stderr)")
        #expect(Self.entries(user) == ["sub"])
        let ours = root.appendingPathComponent("fp8").path
        #expect(try CLI.run(fp8 + ["--out", ours]).status == 0)
        #expect(try CLI.run(fp8 + ["--out", ours]).status == 2)
        #expect(try CLI.run(fp8 + ["--out", ours, "--force"]).status == 0)
        #expect(Self.entries(root) == ["fp8", "v"])
    }

    @Test("two calibrate runs on one --out at once: both finish, the file is whole and verified, no temporaries remain")
    func concurrentCalibrations() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("stats.h5").path
        let arguments = ["calibrate", model, "--out", out, "--quiet", "--no-hessian"] + Self.calibration
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in results.append(try? CLI.run(arguments)) }
        let statuses = results.values.map { $0?.status ?? -1 }.sorted()
        // Both compute; the first rename wins and the second finds the name taken (exit 2, nothing overwritten),
        // or the second starts after the first finished and reuses its file (exit 0).
        #expect(statuses == [0, 0] || statuses == [0, 2], "\(results.values.map { $0?.stderr ?? "" })")
        #expect(Self.entries(root) == ["stats.h5"])
        let again = try CLI.run(arguments + ["--json"])
        #expect(again.status == 0 && again.stdout.contains("\"cache\" : \"hit\""), "\(again.stdout)")
    }

    @Test("a full disk is exit 2 naming the output and the cause, never a crash, and leaves nothing",
          .enabled(if: SmallFilesystem.available, "needs root and `mount -t tmpfs` (not available here)"))
    func fullDisk() throws {
        let disk = try #require(SmallFilesystem(megabytes: 2))
        defer { disk.unmount() }
        let runs: [(String, [String])] = [
            ("\(disk.path)/x.h5", ["calibrate", model, "--out", "\(disk.path)/x.h5"] + Self.calibration),
            ("\(disk.path)/x.gguf", ["quantize", model, "--format", "gguf:F32", "--out", "\(disk.path)/x.gguf"]),
            ("\(disk.path)/fp8", ["quantize", model, "--target", "h100", "--activations", "dynamic", "--weight-scales", "tensor",
                                  "--out", "\(disk.path)/fp8"]),
        ]
        for (out, arguments) in runs {
            try Data(count: 1_200_000).write(to: URL(fileURLWithPath: "\(disk.path)/ballast"))
            let result = try CLI.run(arguments + ["--quiet"])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(out) && result.stderr.contains("no space left on device"), "\(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain"))
            try FileManager.default.removeItem(atPath: "\(disk.path)/ballast")
            #expect(Self.entries(URL(fileURLWithPath: disk.path)).isEmpty, "\(arguments)")
        }
    }

    @Test("an interrupt (SIGINT, SIGTERM) while writing removes the temporary: exit 128 + signal, nothing left", arguments: [SIGINT, SIGTERM])
    func interrupted(_ signal: Int32) throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["calibrate", model, "--out", root.appendingPathComponent("stats.h5").path, "--quiet",
                             "--data", "prose", "--samples", "256", "--seq-len", "128"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the temporary to appear (the run is then writing), then interrupt it.
        let deadline = Date().addingTimeInterval(60)
        while Self.entries(root).isEmpty && process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(Self.entries(root).contains { $0.hasPrefix(".stats.h5.quantgate-") }, "the run wrote a temporary")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + signal)
        #expect(Self.entries(root).isEmpty, "\(Self.entries(root))")
    }

    @Test("a pipeline rerun into an existing --out is refused; --force replaces the run whole (no user file, no stale artefact)")
    func pipelineRerun() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("pl")
        let user = try Self.userDirectory(in: root)
        let settings = try GateCommandsTests.smallSettings(in: root)
        let text = root.appendingPathComponent("text.txt")
        try String(try String(contentsOf: text, encoding: .utf8).prefix(4000)).write(to: text, atomically: true, encoding: .utf8)
        let pipeline = ["pipeline", model, "--targets", "cpu", "--format", "gguf:Q8_0", "--eval-text", text.path] + settings
        let onUser = try CLI.run(pipeline + ["--out", user.path, "--force"])
        #expect(onUser.status == 2 && onUser.stderr.contains("QuantGate did not write"), "\(onUser.stderr)")
        #expect(Self.entries(user) == ["sub"])

        // An earlier run's directory (its marker) with a stale artefact the new run must not keep.
        try FileManager.default.createDirectory(at: out.appendingPathComponent("artefacts"), withIntermediateDirectories: true)
        try Data().write(to: out.appendingPathComponent(".quantgate-output"))
        try Data("stale".utf8).write(to: out.appendingPathComponent("artefacts/stale.gguf"))
        let refused = try CLI.run(pipeline + ["--out", out.path])
        #expect(refused.status == 2 && refused.stderr.contains("already exists (pass --force"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("artefacts/stale.gguf").path))
        let forced = try CLI.run(pipeline + ["--out", out.path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(Self.entries(out.appendingPathComponent("artefacts")) == ["bard-5m-Q8_0.gguf"])
        #expect(Self.entries(root).filter { $0.hasPrefix(".") }.isEmpty)
        #expect(Self.entries(out) == [".quantgate-output", "artefacts", "baseline.h5", "report"], "\(Self.entries(out))")
    }
}

/// Results collected across threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [CLI.Result?] = []
    func append(_ value: CLI.Result?) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }
}

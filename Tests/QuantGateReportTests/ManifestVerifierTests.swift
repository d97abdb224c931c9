import Foundation
import QuantGateReport
import QuantGateTestSupport
import Testing

/// `ManifestVerifier`: a directory verifies only when it holds exactly the promoted files, and a manifest
/// path can never reach outside it.
@Suite("Manifest verification")
struct ManifestVerifierTests {
    /// A fresh folder `root` with `root/artefacts` holding a GGUF file and an FP8-style directory (one file
    /// nested a level down), and the manifest a passing gate writes for them.
    struct Deploy {
        static let gguf = "m-Q4_K_M.gguf"
        static let fp8 = "m-FP8-CH-STATIC"
        let root: URL
        let manifest: PromotionManifest

        var artefacts: URL { root.appendingPathComponent("artefacts") }
        var manifestPath: String { root.appendingPathComponent("manifest.json").path }

        init(seed: UInt64 = 7) throws {
            root = try Fixtures.temporaryDirectory()
            var random = SplitMix64(seed: seed)
            func bytes(_ count: Int) -> Data { Data((0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
            let fp8 = root.appendingPathComponent("artefacts/\(Self.fp8)")
            try FileManager.default.createDirectory(at: fp8.appendingPathComponent("extra"), withIntermediateDirectories: true)
            try bytes(3000).write(to: root.appendingPathComponent("artefacts/\(Self.gguf)"))
            try Data(#"{"quant_method": "compressed-tensors"}"#.utf8).write(to: fp8.appendingPathComponent("config.json"))
            try bytes(4000).write(to: fp8.appendingPathComponent("model.safetensors"))
            try bytes(500).write(to: fp8.appendingPathComponent("tokenizer.json"))
            try bytes(80).write(to: fp8.appendingPathComponent("extra/generation_config.json"))

            var report = GateTests.report(GateTests.kld(0.01, 0.005, 0.015))
            var directory = report.candidates[0]
            report.candidates[0].name = Self.gguf
            report.candidates[0].files = try ArtefactFiles.list(path: root.appendingPathComponent("artefacts/\(Self.gguf)").path)
            directory.name = Self.fp8
            directory.format = "compressed-tensors"
            directory.target = "h100"  // a target that runs FP8 (format-for-target)
            directory.files = try ArtefactFiles.list(path: fp8.path)
            report.candidates.append(directory)
            manifest = try #require(PromotionManifest.make(report: report, gate: try Gate.decide(report: report, policy: GateTests.policy, target: nil)))
            try write(manifest)
        }

        func write(_ manifest: PromotionManifest) throws {
            try manifest.json().write(toFile: manifestPath, atomically: true, encoding: .utf8)
        }

        func verify(_ directory: URL? = nil) throws -> ManifestVerification {
            try ManifestVerifier.verify(manifestPath: manifestPath, directory: (directory ?? artefacts).path)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// The error `body` throws, or nil (recorded as an issue) when it throws none or another kind.
    static func refusal(_ body: () throws -> ManifestVerification) -> ReportError? {
        do {
            let verification = try body()
            Issue.record("accepted: \(verification)")
        } catch let error as ReportError {
            #expect(!error.description.contains("NSCocoaErrorDomain"), "\(error)")
            return error
        } catch {
            Issue.record("not a ReportError: \(error)")
        }
        return nil
    }

    @Test("defect 5: a directory artefact is listed as NAME/FILE, so its manifest verifies against the folder holding the artefacts")
    func pathsCarryTheArtefactFolder() throws {
        let deploy = try Deploy()
        defer { deploy.remove() }
        let fp8 = Deploy.fp8
        #expect(deploy.manifest.artefacts.map { $0.files.map(\.path) } == [
            [Deploy.gguf],
            ["\(fp8)/config.json", "\(fp8)/extra/generation_config.json", "\(fp8)/model.safetensors", "\(fp8)/tokenizer.json"],
        ])
        let verification = try deploy.verify()
        #expect(verification.problems.isEmpty, "\(verification.problems)")
        #expect(verification.files == 5 && verification.artefacts == [fp8, Deploy.gguf])
        // The artefact directory itself is not the deploy folder: its files would be looked up one level too high.
        let inside = try deploy.verify(deploy.artefacts.appendingPathComponent(fp8))
        #expect(inside.problems.contains { $0.reason.hasPrefix("missing") } && inside.problems.contains { $0.reason.hasPrefix("not in the manifest") })
    }

    @Test("defect 6: a path that leaves DIR is refused before any file is read: .., absolute, and symbolic links")
    func traversalIsRefused() throws {
        let deploy = try Deploy()
        defer { deploy.remove() }
        let secret = deploy.root.appendingPathComponent("secret.txt")
        try Data("not yours\n".utf8).write(to: secret)
        let stolen = try #require(try ArtefactFiles.list(path: secret.path).first)
        for path in ["../secret.txt", secret.path, "\(Deploy.fp8)/../../secret.txt", "../../../../etc/passwd"] {
            var manifest = deploy.manifest
            manifest.artefacts[1].files.append(ArtefactFile(path: path, bytes: stolen.bytes, sha256: stolen.sha256))
            try deploy.write(manifest)
            let error = Self.refusal { try deploy.verify() }
            #expect(error?.description.contains("\(deploy.manifestPath): artefacts[1] (\(Deploy.fp8)).files[4].path \"\(path)\"") == true, "\(String(describing: error))")
        }
        // A listed file that is a link to the outside, with the outside file's hash; then a link nobody lists.
        let link = deploy.artefacts.appendingPathComponent("\(Deploy.fp8)/notes.txt")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "../../secret.txt")
        var manifest = deploy.manifest
        manifest.artefacts[1].files.append(ArtefactFile(path: "\(Deploy.fp8)/notes.txt", bytes: stolen.bytes, sha256: stolen.sha256))
        try deploy.write(manifest)
        #expect(Self.refusal { try deploy.verify() }?.description.contains("notes.txt: a symbolic link") == true)
        try deploy.write(deploy.manifest)
        #expect(Self.refusal { try deploy.verify() }?.description.contains("notes.txt: a symbolic link") == true)
    }

    @Test("two names that are one up to Unicode normalization (an extra café beside the listed café) are refused, not merged")
    func normalizationTwins() throws {
        let deploy = try Deploy()
        defer { deploy.remove() }
        let folder = deploy.artefacts.appendingPathComponent(Deploy.fp8)
        let composed = "caf\u{E9}.txt", decomposed = "cafe\u{301}.txt"
        try Data("listed".utf8).write(to: folder.appendingPathComponent(composed))
        var manifest = deploy.manifest
        let listed = try #require(try ArtefactFiles.list(path: folder.appendingPathComponent(composed).path).first)
        manifest.artefacts[1].files.append(ArtefactFile(path: "\(Deploy.fp8)/\(composed)", bytes: listed.bytes, sha256: listed.sha256))
        try deploy.write(manifest)
        #expect(try deploy.verify().problems.isEmpty)
        try Data("smuggled".utf8).write(to: folder.appendingPathComponent(decomposed))
        #expect(Self.refusal { try deploy.verify() }?.description.contains("only in its Unicode normalization") == true)
    }

    @Test("defect 7: no files verifies nothing, every extra file is named, a missing DIR or manifest is an input error")
    func failsClosed() throws {
        let deploy = try Deploy()
        defer { deploy.remove() }
        var empty = deploy.manifest
        empty.artefacts[0].files = []
        try deploy.write(empty)
        #expect(Self.refusal { try deploy.verify() }?.description.contains("artefacts[0] (\(Deploy.gguf)): lists no file") == true)
        empty.artefacts = []
        try deploy.write(empty)
        #expect(Self.refusal { try deploy.verify() }?.description.contains("lists no artefact") == true)

        try deploy.write(deploy.manifest)
        let extras = ["\(Deploy.fp8)/evil.py", "\(Deploy.fp8)/model.safetensors.index.json", "\(Deploy.fp8)/model-00002-of-00002.safetensors",
                      "\(Deploy.fp8)/extra/chat_template.jinja", "m-AWQ-W4G128/config.json", "README.md"]
        for extra in extras {
            let url = deploy.artefacts.appendingPathComponent(extra)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("print('hi')\n".utf8).write(to: url)
        }
        let verification = try deploy.verify()
        #expect(verification.problems.map(\.path) == extras.sorted().map { deploy.artefacts.appendingPathComponent($0).path })
        #expect(verification.problems.allSatisfy { $0.reason.hasPrefix("not in the manifest") })

        let missing = deploy.root.appendingPathComponent("nowhere")
        #expect(Self.refusal { try deploy.verify(missing) }?.description == "\(missing.path): no such directory")
        let file = deploy.artefacts.appendingPathComponent(Deploy.gguf)
        #expect(Self.refusal { try deploy.verify(file) }?.description == "\(file.path): not a directory")
        let noManifest = deploy.root.appendingPathComponent("none.json").path
        #expect(Self.refusal { try ManifestVerifier.verify(manifestPath: noManifest, directory: deploy.artefacts.path) }?.description.hasPrefix(noManifest) == true)
    }

    /// One random change to a verified deploy and what `verify` must answer.
    enum Expectation {
        /// An input error whose message contains this text.
        case refused(String)
        /// Differences that name each of these paths (relative to the artefacts folder).
        case differs([String])
    }

    @Test("property: every random edit of the manifest or the folder is caught (add, remove, change, rename, traversal, disk changes, links)")
    func everyEditIsCaught() throws {
        let deploy = try Deploy()
        defer { deploy.remove() }
        #expect(try deploy.verify().problems.isEmpty)
        var random = SplitMix64(seed: 2024)
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        func fresh() -> String { "f\(random.next() % 1_000_000).bin" }
        let edits = ["add", "remove", "change", "rename", "traversal", "conflict", "disk-extra", "disk-byte", "disk-size", "disk-missing", "disk-link"]
        var seen = Set<String>()
        for _ in 0..<150 {
            let edit = pick(edits)
            seen.insert(edit)
            var manifest = deploy.manifest
            let artefact = Int(random.next() % 2)
            let index = Int(random.next() % UInt64(manifest.artefacts[artefact].files.count))
            let file = manifest.artefacts[artefact].files[index]
            let folder = artefact == 1 ? "\(Deploy.fp8)/" : ""
            let copy = deploy.root.appendingPathComponent("copy")
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: deploy.artefacts, to: copy)
            let onDisk = copy.appendingPathComponent(file.path)

            let expectation: Expectation
            switch edit {
            case "add":
                let path = folder + fresh()
                manifest.artefacts[artefact].files.append(ArtefactFile(path: path, bytes: 10, sha256: file.sha256))
                expectation = .differs([path])
            case "remove":
                manifest.artefacts[artefact].files.remove(at: index)
                expectation = manifest.artefacts[artefact].files.isEmpty ? .refused("lists no file") : .differs([file.path])
            case "change":
                if random.next() % 2 == 0 {
                    manifest.artefacts[artefact].files[index].bytes += Int64(1 + random.next() % 1000)
                } else {
                    var digits = Array(file.sha256)
                    let at = Int(random.next() % 64)
                    digits[at] = pick(Array("0123456789abcdef").filter { $0 != digits[at] })
                    manifest.artefacts[artefact].files[index].sha256 = String(digits)
                }
                expectation = .differs([file.path])
            case "rename":
                let path = pick([folder, "", "\(Deploy.fp8)/extra/"]) + fresh()
                manifest.artefacts[artefact].files[index].path = path
                expectation = .differs([path, file.path])
            case "traversal":
                let path = pick([String(repeating: "../", count: 1 + Int(random.next() % 6)) + "etc/passwd", "/etc/passwd", "\(folder)../\(fresh())",
                                 "\(folder)./\(fresh())", "\(folder)/\(fresh())", "\(Deploy.fp8)\\..\\..\\\(fresh())", "", "\(folder)\(fresh())/",
                                 "./\(file.path)", "\(file.path)/.."])
                manifest.artefacts[artefact].files[index].path = path
                expectation = .refused("files[\(index)].path \"\(path)\"")
            case "conflict":
                manifest.artefacts[1 - artefact].files.append(ArtefactFile(path: file.path, bytes: file.bytes + 1, sha256: file.sha256))
                expectation = .refused("is listed earlier with another size or SHA-256")
            case "disk-extra":
                let path = pick(["", "\(Deploy.fp8)/", "\(Deploy.fp8)/extra/", "other/"]) + fresh()
                try FileManager.default.createDirectory(at: copy.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data().write(to: copy.appendingPathComponent(path))
                expectation = .differs([path])
            case "disk-byte":
                var bytes = try Data(contentsOf: onDisk)
                bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1 + random.next() % 255)
                try bytes.write(to: onDisk)
                expectation = .differs([file.path])
            case "disk-size":
                let bytes = try Data(contentsOf: onDisk)
                try (random.next() % 2 == 0 ? bytes.dropLast() : bytes + [0]).write(to: onDisk)
                expectation = .differs([file.path])
            case "disk-missing":
                try FileManager.default.removeItem(at: onDisk)
                expectation = .differs([file.path])
            default:
                // A listed file replaced by a link to an identical copy outside, or a new link anywhere.
                let outside = deploy.root.appendingPathComponent("outside.bin")
                try? FileManager.default.removeItem(at: outside)
                try FileManager.default.copyItem(at: onDisk, to: outside)
                let link = random.next() % 2 == 0 ? file.path : folder + fresh()
                try? FileManager.default.removeItem(at: copy.appendingPathComponent(link))
                try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent(link), withDestinationURL: outside)
                expectation = .refused("\(link): a symbolic link")
            }
            try deploy.write(manifest)
            switch expectation {
            case .refused(let text):
                let error = Self.refusal { try deploy.verify(copy) }
                #expect(error?.description.contains(text) == true, "\(edit): \(String(describing: error)) lacks \(text)")
            case .differs(let paths):
                let problems = try deploy.verify(copy).problems
                for path in paths {
                    #expect(problems.contains { $0.path == copy.appendingPathComponent(path).path }, "\(edit): \(problems) lacks \(path)")
                }
            }
        }
        #expect(seen == Set(edits))
    }
}

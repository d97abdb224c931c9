import ArgumentParser
import Foundation
import QuantGateReport

/// `quantgate verify MANIFEST DIR`: re-hash a promoted artefact before deploying it.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that the artefact files in DIR are the ones a promotion manifest lists (exit 0), or name what differs (exit 1).")

    @Argument(help: "A manifest.json written by a passing gate.")
    var manifest: String

    @Argument(help: "The directory holding the artefact files (as deployed).")
    var directory: String

    func run() throws {
        let problems = try ManifestVerifier.verify(manifestPath: manifest, directory: directory)
        if problems.isEmpty {
            print("verified: every file listed in \(manifest) is present in \(directory) with its recorded size and SHA-256")
            return
        }
        for problem in problems { ErrorReporter.report("\(problem)") }
        throw ExitCode(ExitStatus.gateFailed.rawValue)
    }
}

import ArgumentParser
import Foundation
import QuantGateReport

/// `quantgate verify MANIFEST DIR`: check, before deploying, that DIR holds exactly the promoted files.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that DIR holds exactly the files a promotion manifest lists: exit 0, 1 when anything differs, 2 on bad input.",
        discussion: """
            DIR is the folder holding the artefacts: OUT/artefacts for `pipeline --out OUT`, the candidates' folder for \
            `eval --gate --report`. Manifest paths are relative to it: a single-file artefact is its file name, a directory \
            artefact's files are NAME/FILE.
            Exit 1 names each file that is missing, has another size or SHA-256, or is in DIR without being listed, at any \
            depth: a stray file inside an artefact directory or beside the artefacts (a deploy step copies DIR whole). \
            Empty folders hold no file and are not reported.
            Exit 2, before any file is compared, for a manifest that cannot be read or lists an unsafe or inconsistent path \
            (absolute, with an empty, `.` or `..` component or a backslash, one path recorded twice with different contents, \
            no file at all); for a DIR that is missing or not a directory; and for any symbolic link or special file inside \
            DIR, wherever it points (links are refused, never followed; DIR itself may be reached through one).
            """)

    @Argument(help: "A manifest.json written by a passing gate.")
    var manifest: String

    @Argument(help: "The folder holding the promoted artefacts, as deployed.")
    var directory: String

    func run() throws {
        let verification = try ManifestVerifier.verify(manifestPath: manifest, directory: directory)
        guard verification.problems.isEmpty else {
            for problem in verification.problems { ErrorReporter.report("\(problem)") }
            ErrorReporter.report("\(directory) differs from \(manifest) (\(verification.problems.count) problems)")
            throw ExitCode(ExitStatus.gateFailed.rawValue)
        }
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        print("verified: \(directory) holds exactly the \(count(verification.files, "file")) of \(count(verification.artefacts.count, "artefact")) "
              + "in \(manifest) (\(verification.artefacts.joined(separator: ", "))), each with its recorded size and SHA-256")
    }
}

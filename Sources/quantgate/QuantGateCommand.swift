import ArgumentParser
import Foundation
import QuantGateTensors

/// The `quantgate` root command: parses, runs one subcommand, and maps every outcome to an exit code.
@main
struct QuantGateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantgate",
        abstract: "Quantize Hugging Face checkpoints for real hardware targets and gate them on measured quality.",
        discussion: """
            Exit codes: 0 success, 1 gate failed, 2 usage or input error, 3 internal error.
            """,
        version: QuantGateVersion.string,
        subcommands: [InspectCommand.self, CalibrateCommand.self, QuantizeCommand.self, EvalCommand.self, GateCommand.self,
                      VerifyCommand.self, PipelineCommand.self, BenchCommand.self])

    static func main() {
        OpenBLASStartup.run()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let status = ExitStatus(for: error)
            if error is ExitCode {
                // The command has already said why (a failed gate, an unreadable candidate).
            } else if status == .success {
                print(fullMessage(for: error))
            } else if ExitStatus.isQuantGateError(error) {
                ErrorReporter.report(error)
            } else if let message = ExitStatus.fileError(error) {
                ErrorReporter.report(message)
            } else {
                ErrorReporter.report(fullMessage(for: error))
            }
            Foundation.exit(status.rawValue)
        }
    }
}


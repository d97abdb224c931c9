import ArgumentParser
import Foundation
import QuantGateModel
import QuantGateSafetensors

/// `quantgate inspect MODEL`: what a checkpoint holds, and whether it matches its config.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's architecture, parameters, dtypes and tensors, and check them against config.json.",
        discussion: """
            MODEL is a Hugging Face model directory (config.json + model.safetensors, or shards listed in \
            model.safetensors.index.json) or a single .safetensors file. Every safetensors header is validated \
            strictly. For a directory, each tensor is compared with what config.json implies: missing, \
            unexpected and wrong-shaped tensors are listed and the command exits 2.
            """)

    @Argument(help: "A model directory or a .safetensors file.")
    var model: String

    @Flag(help: "Print a JSON report on stdout instead of tables.")
    var json = false

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) else {
            throw InputError(description: "\(model): no such file or directory")
        }
        let report: InspectReport
        if isDirectory.boolValue {
            let directory = try ModelDirectory(path: model)
            report = InspectReport(path: model, checkpoint: directory.checkpoint,
                                   configuration: directory.configuration, check: directory.check())
        } else {
            report = InspectReport(path: model, checkpoint: try SafetensorsCheckpoint(path: model),
                                   configuration: nil, check: nil)
        }
        print(json ? report.json() : report.text())
        if isDirectory.boolValue, let check = report.checkResult {
            try check.validate(directory: model)
        }
    }
}

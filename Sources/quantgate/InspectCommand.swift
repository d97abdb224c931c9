import ArgumentParser
import Foundation
import QuantGateFormats
import QuantGateModel
import QuantGateOutput
import QuantGateSafetensors

/// `quantgate inspect MODEL`: what a checkpoint holds, and whether it matches its config.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's architecture, parameters, dtypes and tensors, and check them against config.json.",
        discussion: """
            MODEL is a Hugging Face model directory (config.json + model.safetensors, or shards listed in \
            model.safetensors.index.json; an FP8 compressed-tensors, GPTQ or AWQ directory is read as such), a single .safetensors \
            file, or a .gguf file (its metadata and tensors). Every safetensors header is validated \
            strictly. For a directory, each tensor is compared with what config.json implies: missing, \
            unexpected, wrong-shaped and non-float tensors are listed and the command exits 2; so it does \
            for a source checkpoint holding a NaN or infinite value (the tensor and element are named).
            An artefact (a .gguf file, an FP8, GPTQ or AWQ directory) is also given the structural checks \
            the gate runs on a candidate (quantized tensors, scales, g_idx, shard index, finite and \
            non-constant values, …): each is listed, and the command exits 1 when one fails, 2 when the \
            artefact cannot be read.
            """)

    @Argument(help: "A model directory, a .safetensors file or a .gguf file.")
    var model: String

    @Flag(help: "Print a JSON report on stdout instead of tables.")
    var json = false

    @Option(name: .customLong("dump-dequantized"),
            help: "For a .gguf file or an FP8, GPTQ or AWQ directory: also write every tensor dequantized to f32 as DIR/NAME.f32 (raw little-endian; ggml order for GGUF, row-major [out, in] otherwise, a GPTQ or AWQ Linear as NAME.weight). DIR must not exist (--force replaces one an earlier dump wrote).")
    var dumpDirectory: String?

    @Flag(help: "Replace a --dump-dequantized directory that QuantGate wrote.")
    var force = false

    func run() throws {
        if let dumpDirectory { try OutputDestination(dumpDirectory, kind: .directory, replace: force).checkWritable() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) else {
            throw InputError(description: "\(model): no such file or directory")
        }
        if !isDirectory.boolValue && model.lowercased().hasSuffix(".gguf") {
            let file = try GGUFFile(path: model)
            try dump(file.tensors.map(\.name)) { try file.floats(named: $0).values }
            let report = GGUFInspectReport(path: model, file: file, structuralChecks: try InspectChecks.run(model))
            if json {
                try JSONOutput.print(report)
            } else {
                print(report.text(metadataOrder: file.header.metadata.map(\.key)))
            }
            try InspectChecks.conclude(report.structuralChecks, path: model)
            return
        }
        var report: InspectReport
        var source: ModelDirectory?
        if isDirectory.boolValue && FP8Checkpoint.isFP8(directory: model) {
            let fp8 = try FP8Checkpoint(directory: model)
            let configuration = try ModelDirectory(path: model).configuration
            // The scales sit beside the Linears they belong to; the check compares everything else with config.json.
            let tensors = fp8.checkpoint.tensors.filter { !$0.name.hasSuffix(".weight_scale") && !$0.name.hasSuffix(".input_scale") }
            report = InspectReport(path: model, checkpoint: fp8.checkpoint, configuration: configuration,
                                   check: TensorCheck(configuration: configuration, tensors: tensors))
            try dump(fp8.checkpoint.tensors.map(\.name)) { try fp8.floats($0).values }
            report.structuralChecks = try InspectChecks.run(model)
            if !json {
                print("compressed-tensors: \(fp8.config.scheme), \(fp8.quantizedModules.count) Linears in E4M3, ignore: \(fp8.config.ignore.joined(separator: ", "))")
            }
        } else if isDirectory.boolValue, let packed = try Self.packedCheckpoint(model) {
            let configuration = try ModelDirectory(path: model).configuration
            // Each quantized Linear stands in the check as the `[out, in]` weight it dequantizes to.
            let suffixes = [".qweight", ".qzeros", ".scales", ".g_idx"]
            let plain = packed.checkpoint.tensors.filter { tensor in !suffixes.contains { tensor.name.hasSuffix($0) } }
            let linears = packed.quantizedModules.map { TensorInfo(name: $0 + ".weight", dtype: .float16, shape: packed.shapes[$0]!, dataRange: 0..<0) }
            report = InspectReport(path: model, checkpoint: packed.checkpoint, configuration: configuration,
                                   check: TensorCheck(configuration: configuration, tensors: plain + linears))
            try dump(plain.map(\.name) + linears.map(\.name)) { try packed.floats($0).values }
            report.structuralChecks = try InspectChecks.run(model)
            if !json, let gptq = packed as? GPTQCheckpoint {
                let c = gptq.config
                print("GPTQ: \(c.bits)-bit, group \(c.groupSize.map(String.init) ?? "per channel"), desc_act \(c.descAct), sym \(c.symmetric), "
                      + "\(c.checkpointFormat.rawValue); \(gptq.quantizedModules.count) Linears quantized")
            } else if !json, let awq = packed as? AWQCheckpoint {
                print("AWQ (GEMM): 4-bit with zero points, group \(awq.config.groupSize), modules_to_not_convert "
                      + "\(awq.config.modulesToNotConvert?.joined(separator: ", ") ?? "none"); \(awq.quantizedModules.count) Linears quantized")
            }
        } else if isDirectory.boolValue {
            try refuseDump()
            let directory = try ModelDirectory(path: model)
            source = directory
            report = InspectReport(path: model, checkpoint: directory.checkpoint,
                                   configuration: directory.configuration, check: directory.check())
        } else {
            try refuseDump()
            report = InspectReport(path: model, checkpoint: try SafetensorsCheckpoint(path: model),
                                   configuration: nil, check: nil)
        }
        if json { try JSONOutput.print(report) } else { print(report.text()) }
        if let source {
            // A source checkpoint is refused as every command refuses it: the tensor check, then every value finite.
            let checking = Progress(enabled: true, label: "check values")
            defer { checking.finish() }
            try source.validate { done, total, _ in checking.update(done, of: total) }
        } else if let check = report.checkResult {
            try check.validate(directory: model)
        }
        if let checks = report.structuralChecks {
            try InspectChecks.conclude(checks, path: model)
        }
    }

    /// The GPTQ or AWQ checkpoint in `directory`, or nil for another kind of directory.
    private static func packedCheckpoint(_ directory: String) throws -> (any PackedLinearCheckpoint)? {
        if GPTQCheckpoint.isGPTQ(directory: directory) { return try GPTQCheckpoint(directory: directory) }
        if AWQCheckpoint.isAWQ(directory: directory) { return try AWQCheckpoint(directory: directory) }
        return nil
    }

    /// `--dump-dequantized` is for quantized artefacts: a full-precision checkpoint has nothing to dequantize.
    private func refuseDump() throws {
        guard dumpDirectory != nil else { return }
        throw ValidationError("--dump-dequantized applies to GGUF files and FP8, GPTQ and AWQ directories; \(model) is a full-precision checkpoint")
    }

    /// `--dump-dequantized`: each tensor's f32 values as DIR/NAME.f32, the directory written whole or not at all.
    /// A tensor name that is not a plain file name (a `/` in it) is refused, so nothing is written outside DIR.
    private func dump(_ names: [String], values: (String) throws -> [Float]) throws {
        guard let dumpDirectory else { return }
        if let bad = names.first(where: { $0.isEmpty || $0.contains("/") || $0.contains("\0") }) {
            throw InputError(description: "\(model): tensor name \"\(bad)\" cannot be a file name in --dump-dequantized (it holds a / or is empty)")
        }
        try OutputDestination(dumpDirectory, kind: .directory, replace: force).write { directory in
            for name in names {
                try values(name).withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: directory).appendingPathComponent(name + ".f32"))
            }
        }
    }
}

import ArgumentParser
import Foundation
import QuantGateFormats
import QuantGateQuantize

/// `quantgate quantize MODEL --target cpu --out model.gguf`, `… --target h100 --out model-fp8/`.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a checkpoint into the artefact a hardware target runs.",
        discussion: """
            Targets: cpu, x86, arm64, apple-m → GGUF for llama.cpp and Ollama (default mixture Q4_K_M); \
            h100, h200, gh200, h20 → FP8 E4M3 W8A8 in the compressed-tensors layout vLLM and transformers load \
            (also for the Ada targets with --format fp8); a100, a10, a10g, rtx3090, a6000, v100, t4 → GPTQ INT4 \
            (group 128, static act-order, symmetric, desc_act false) in the AutoGPTQ/GPTQModel layout vLLM, transformers and GPTQModel load; \
            l40s, l4, rtx4090, rtx6000-ada → AWQ INT4 (group 128, zero points) in the AutoAWQ GEMM layout vLLM (awq, \
            awq_marlin), transformers and AutoAWQ load.
            FP8: weights get one scale per output row (--weight-scales channel, default) or per tensor; each \
            Linear's input gets a static scale from the max |x| seen on the calibration data (--activations \
            static, default) or a per-token scale at run time (dynamic). lm_head, embeddings, norms, MoE routers \
            and --ignore matches stay in the source dtype. The output is a model directory (OUT).
            Outputs: every file or directory is written under a unique temporary name beside it and renamed \
            when complete; an existing one is replaced only with --force (a directory only if QuantGate wrote \
            it: it holds .quantgate-output); on an error or an interrupt nothing is left behind.
            --format gguf:MIXTURE picks llama.cpp's mixture by its llama-quantize name: Q2_K, Q3_K_S, Q3_K_M, \
            Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, Q8_0, Q4_0, F16, BF16, F32. Which tensor gets which \
            type follows llama-quantize's rules exactly.
            GPTQ: calibration runs block by block; each block's Linears are quantized from the Hessian 2XᵀX/n \
            of their inputs as the already-quantized blocks produce them (true-sequential inside a block by \
            default), with dead columns zeroed, dampening 1 % of the mean diagonal (raised until the Cholesky \
            factorization succeeds), lazy batches of 128 columns, columns in decreasing order of the Hessian diagonal \
            with each group (128 original columns) fitted on the original weights first (--act-order static; group \
            and off are the others). The per-Linear loss is printed and kept in OUT/quantization_report.json. --rtn writes the same \
            grid rounded to nearest, as a baseline.
            AWQ: calibration runs block by block on full-precision activations. For each scaling group (q/k/v \
            after the input norm, o after v when v_proj and o_proj have the same shape, gate/up after the \
            post-attention norm, down after up) a 20-point α search picks scales mean|x|^α / mean|ŵ|^(1−α) \
            minimising the group's module output error; the previous op absorbs 1/s; then a clip search \
            clamps each (row, group) of every Linear but q/k; then the asymmetric 4-bit grid (zero points). \
            --rtn writes the same grid rounded to nearest, as a baseline.
            Importance matrix: for every mixture below 8 bits, the quantizers weight each column's rounding \
            error by the mean x² of that column's input, measured on --data (the calibration cache \
            --calibration, default OUT.calibration.h5, is reused when it matches), or read from a llama.cpp \
            imatrix file (--imatrix). \
            --no-imatrix quantizes without one.
            """)

    @Argument(help: "A model directory (config.json, safetensors weights, tokenizer.json).")
    var model: String

    @Option(help: "Hardware target: cpu, x86, arm64, apple-m (GGUF); h100, h200, gh200, h20 (FP8); l40s, l4, rtx4090, rtx6000-ada (AWQ); a100, a10, a10g, rtx3090, a6000, v100, t4 (GPTQ).")
    var target = "cpu"

    @Option(help: "Artefact format: \(ArtefactChoice.formatHelp) (default: the target's).")
    var format: String?

    @OptionGroup(title: "FP8") var fp8: FP8Options

    @OptionGroup(title: "GPTQ and AWQ") var grid: GridOptions

    @OptionGroup(title: "GPTQ") var gptq: GPTQOptions

    @OptionGroup(title: "AWQ") var awq: AWQOptions

    @OptionGroup var shards: ShardOptions

    @OptionGroup var calibrationData: CalibrationDataOptions

    @Option(help: "The calibration cache to reuse or write (default: OUT.calibration.h5); `quantgate calibrate --out` writes one.")
    var calibration: String?

    @Option(help: "A llama.cpp importance matrix (GGUF form) to use instead of calibrating.")
    var imatrix: String?

    @Flag(name: .customLong("no-imatrix"), help: "Quantize without an importance matrix.")
    var noImatrix = false

    @Option(name: .customLong("save-imatrix"), help: "Also write the importance matrix in llama.cpp's GGUF imatrix form.")
    var saveImatrix: String?

    @Option(help: "The artefact to write: a .gguf file, or a model directory for FP8, GPTQ and AWQ.")
    var out: String

    @Flag(help: "Replace an existing output: a file (the GGUF, --save-imatrix, a foreign file at the calibration cache path) or a model directory QuantGate wrote (never another directory).")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Print each stage's estimated peak memory and seconds (named as --json's run.stages of a real run), then exit without writing anything.")
    var dryRun = false

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard !(noImatrix && imatrix != nil) else { throw ValidationError("--imatrix and --no-imatrix exclude each other") }
        let paths = [("--out", out), ("--save-imatrix", saveImatrix), ("--calibration", calibration), ("--imatrix", imatrix)]
            .compactMap { flag, path in path.map { (flag, URL(fileURLWithPath: $0).standardizedFileURL.path) } }
        for (index, (flag, path)) in paths.enumerated() {
            if let other = paths[..<index].first(where: { $0.1 == path }) {
                throw ValidationError("\(other.0) and \(flag) name the same file (\(path)): each needs its own")
            }
        }
        let choice = try choice()
        let scope = FlagScope(fp8: fp8, grid: grid, gptq: gptq, awq: awq, shards: shards, calibrationData: calibrationData)
        let fromData = imatrix == nil && !noImatrix
        try scope.check([choice], targets: target, importanceFromData: fromData)
        if !choice.isGGUF, imatrix != nil || noImatrix || saveImatrix != nil {
            throw ValidationError("--imatrix, --no-imatrix and --save-imatrix apply to GGUF artefacts, not to \(choice)")
        }
        // The calibration cache is read for a GGUF mixture's importance matrix and for FP8's static input scales
        // (GPTQ and AWQ calibrate block by block, without it).
        if calibration != nil && (choice == .gptq || choice == .awq || !scope.calibrates(choice, importanceFromData: fromData)) {
            throw ValidationError("--calibration: \(choice) for --target \(target) reads no calibration cache (GGUF mixtures with an importance "
                                  + "matrix and FP8 with static activation scales do; GPTQ and AWQ calibrate block by block)")
        }
        if saveImatrix != nil, case .gguf(let type) = choice, !type.usesImportance || noImatrix {
            throw ValidationError("--save-imatrix: \(choice) \(noImatrix ? "with --no-imatrix " : "")is quantized without an importance matrix")
        }
    }

    func choice() throws -> ArtefactChoice {
        do { return try ArtefactChoice(target: target, format: format) } catch let error as ValidationError {
            throw ValidationError("--target \(target): \(error.message)")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw InputError(description: "\(model): no such file or directory")
        }
        if dryRun { return try estimate() }
        switch try choice() {
        case .gguf(let type): try runGGUF(type)
        case .fp8: try runFP8()
        case .gptq: try runGPTQ()
        case .awq: try runAWQ()
        }
    }

    /// `--dry-run`: the stages of this run, estimated.
    private func estimate() throws {
        let checkpoint = try DryRun.Checkpoint(model)
        let scope = FlagScope(fp8: fp8, grid: grid, gptq: gptq, awq: awq, shards: shards, calibrationData: calibrationData)
        let estimate = try checkpoint.quantizeEstimate(try choice(), scope: scope, importanceFromData: imatrix == nil && !noImatrix,
                                                       gptq: gptq, awq: awq) { try checkpoint.calibrationWindows(calibrationData) }
        try DryRun(estimate: estimate, rates: checkpoint.rates).emit(json: json)
    }

    /// The source, target, calibration data and write settings of a directory artefact.
    private var directoryJob: DirectoryJob {
        DirectoryJob(model: model, maxShardBytes: shards.maxShardBytes, target: target, calibrationData: calibrationData, replace: force, quiet: quiet)
    }

    private func runFP8() throws {
        let out = URL(fileURLWithPath: out).standardizedFileURL.path  // `--out model-fp8/` names the directory
        let job = FP8QuantizeJob(job: directoryJob, options: fp8, calibrationCache: calibration ?? out + ".calibration.h5")
        let summary = try job.run(out: out)
        if json { return try JSONOutput.print(summary) }
        print("module                                   shape          weight scale range      input scale")
        for m in summary.modules {
            print(m.name.padding(toLength: 41, withPad: " ", startingAt: 0)
                + "\(m.shape)".padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(format: "%.3e … %.3e   %@", m.minScale, m.maxScale, m.inputScale.map { String(format: "%.4e", $0) } ?? "per token"))
        }
        print(String(format: "wrote %@: %@, %d Linears in E4M3, ignored %@; %.2f MiB (source %.2f MiB), %.1f s",
                     out, summary.scheme, summary.modules.count, summary.ignored.joined(separator: ", "),
                     Double(summary.bytes) / 1_048_576, Double(summary.sourceBytes) / 1_048_576, summary.seconds))
    }

    private func runGPTQ() throws {
        let out = URL(fileURLWithPath: out).standardizedFileURL.path
        let job = GPTQQuantizeJob(job: directoryJob, options: gptq, grid: grid)
        let summary = try job.run(out: out)
        if json { return try JSONOutput.print(summary) }
        print("module                                   shape          loss          damp    dead   seconds")
        for (layer, seconds) in zip(summary.report.layers, summary.layerSeconds) {
            print(layer.module.padding(toLength: 41, withPad: " ", startingAt: 0)
                + "\(layer.shape)".padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(format: "%-13.5g %-7@ %-6d %.3f", layer.loss, layer.damp.map { String(format: "%.3f", $0) } ?? "-",
                         layer.deadColumns, seconds))
        }
        print(String(format: "wrote %@: %@ (%@), %d Linears, %.2f MiB (source %.2f MiB); GPTQ sweeps %.1f s, total %.1f s",
                     out, gptq.tag(grid), gptq.checkpointFormat.rawValue, summary.report.layers.count, Double(summary.bytes) / 1_048_576,
                     Double(summary.sourceBytes) / 1_048_576, summary.solverSeconds, summary.seconds))
    }

    private func runAWQ() throws {
        let out = URL(fileURLWithPath: out).standardizedFileURL.path
        let job = AWQQuantizeJob(job: directoryJob, options: awq, grid: grid)
        let summary = try job.run(out: out)
        if json { return try JSONOutput.print(summary) }
        print("scaling group                                 previous op                α      loss          at α=0")
        for group in summary.report.groups {
            // model.layers.N.q_proj,k_proj,v_proj    input_layernorm
            let layer = group.previous.split(separator: ".").prefix(3).joined(separator: ".")
            let names = group.linears.map { $0.split(separator: ".").last.map(String.init) ?? $0 }.joined(separator: ",")
            print("\(layer).\(names)".padding(toLength: 46, withPad: " ", startingAt: 0)
                + group.previous.split(separator: ".").dropFirst(3).joined(separator: ".").padding(toLength: 27, withPad: " ", startingAt: 0)
                + (group.ratio.map { String(format: "%-6.2f %-13.5g %.5g", $0, group.loss ?? .nan, group.lossAtZero ?? .nan) }
                   ?? "-      (not scaled)"))
        }
        let clipped = summary.report.layers.compactMap(\.clipRatio)
        print(String(format: "wrote %@: %@, %d Linears, %.2f MiB (source %.2f MiB); mean clip bound %@ of max|w|, total %.1f s",
                     out, awq.tag(grid), summary.report.layers.count, Double(summary.bytes) / 1_048_576, Double(summary.sourceBytes) / 1_048_576,
                     clipped.isEmpty ? "-" : String(format: "%.3f", clipped.reduce(0, +) / Double(clipped.count)), summary.seconds))
    }

    private func runGGUF(_ type: GGUFFileType) throws {
        let job = GGUFQuantizeJob(model: model, fileType: type, target: target, calibrationData: calibrationData,
                                  calibrationCache: calibration ?? out + ".calibration.h5", imatrix: imatrix,
                                  useImportance: !noImatrix, saveImatrix: saveImatrix, replace: force, quiet: quiet)
        let (summary, importance) = try job.run(out: out)
        if json { return try JSONOutput.print(summary) }
        print("tensor                          shape              type   bytes   imatrix")
        for t in summary.tensors {
            print(t.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                + "\(t.shape)".padding(toLength: 19, withPad: " ", startingAt: 0)
                + t.type.padding(toLength: 7, withPad: " ", startingAt: 0)
                + String(format: "%8d   %@", t.bytes, t.usedImportance ? "yes" : "-"))
        }
        print(String(format: "wrote %@: %@ %@, %.2f MiB, %.2f bits per weight over %d parameters, %.1f s%@",
                     out, "GGUF", type.rawValue, Double(summary.fileBytes) / 1_048_576, summary.bitsPerWeight,
                     summary.parameters, summary.seconds,
                     importance.map { ", importance: \($0.source)" } ?? ", no importance matrix"))
    }
}

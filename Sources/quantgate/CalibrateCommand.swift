import ArgumentParser
import Foundation
import QuantGateCalibration
import QuantGateModel
import QuantGateTensors
import QuantGateTokenizer

/// `quantgate calibrate MODEL --data … --out stats.h5`: per-Linear activation statistics, cached in HDF5.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure every Linear's input statistics on calibration data and cache them in HDF5.",
        discussion: """
            Data (--data, repeatable): a built-in set (prose, code, mixed; see Calibration/DATASETS.md), \
            text files, directories of them, JSONL (.jsonl: one document per record, its --field, or a \
            'messages' list joined as 'role: content' lines) or HDF5 token ids (.h5: dataset 'tokens', \
            int32, 1-D stream or N×L windows taken as they are, in order).
            Sampling: documents are tokenized (with BOS where the tokenizer adds it) and concatenated; \
            the stream is cut into consecutive --seq-len windows and --samples of them are drawn \
            without replacement with SplitMix64(--seed), then used in stream order. Fewer windows than \
            asked: all are used and the report says so; none is repeated.
            Statistics per Linear input: mean |x|, max |x|, mean x² per channel and (unless --no-hessian) \
            XᵀX / tokens; per block: its output's mean |x|, max |x|, mean x². Layout: Calibration/README.md.
            Cache: when --out already holds statistics of the same model content, data, --samples, \
            --seq-len, --seed and tool version, nothing is recomputed; statistics of other inputs are \
            recomputed and replace it. Any other file there (not QuantGate statistics, truncated, altered) \
            is replaced only with --force, and a directory never. The file is written under a unique \
            temporary name beside --out, checked against its own checksum and renamed: an error or an \
            interrupt leaves nothing behind.
            """)

    @Argument(help: "A model directory (config.json, safetensors weights, tokenizer.json).")
    var model: String

    @OptionGroup var calibration: CalibrationDataOptions

    @Option(help: "The statistics file to write (or reuse).")
    var out: String?

    @Flag(name: .customLong("no-hessian"), help: "Skip the XᵀX matrices (GPTQ needs them; AWQ, FP8 and GGUF do not).")
    var noHessian = false

    @Option(name: .customLong("reference-text"),
            help: "Held-out text for the data-fit check (default: the bundled Calibration/eval text).")
    var referenceText: String?

    @Flag(name: .customLong("dry-run"), help: "Print the diagnostics and a preflight estimate of memory and time, then exit.")
    var dryRun = false

    @Flag(help: "Recompute even when the cache matches, and replace a file at --out that is not QuantGate statistics.")
    var force = false

    @Flag(help: "Print a JSON report on stdout.")
    var json = false

    @Flag(help: "No progress or notes on stderr.")
    var quiet = false

    func validate() throws {
        guard dryRun || out != nil else { throw ValidationError("--out FILE is required (except with --dry-run)") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw InputError(description: "\(model): no such file or directory")
        }
        let directory = try checkedModelDirectory(model)
        let tokenizer = try Tokenizer(directory: model)
        let set = try calibration.load(tokenizer: tokenizer, configuration: directory.configuration)
        var report = CalibrationReport(set: set)
        for line in set.diagnostics.notes { note(line) }
        do {
            try measure(set: set, directory: directory, tokenizer: tokenizer, report: &report)
        } catch {
            // What was measured so far (the data diagnostics above all) is not lost with the error: stdout may
            // be a pipe that the failing job's log never shows.
            if !quiet { FileHandle.standardError.write(Data("calibration so far:\n\(report.text)\n".utf8)) }
            throw error
        }
    }

    /// Everything after the data are loaded: cache check, data-fit check, preflight, calibration, report.
    private func measure(set: CalibrationSet, directory: ModelDirectory, tokenizer: Tokenizer, report: inout CalibrationReport) throws {
        let c = directory.configuration
        report.modelHash = try ModelFingerprint.compute(directory)
        let key = CalibrationKey(modelHash: report.modelHash, set: set, hessian: !noHessian)
        let cache = out.map { CalibrationCache.status(at: $0, key: key, configuration: c) } ?? .absent
        report.cache = cache.description
        if cache == .hit && !force && !dryRun {
            report.output = out
            try emit(report)
            return
        }
        if let out, !dryRun { try CalibrationCache.checkWritable(path: out, status: cache, replace: force) }
        let network = try LlamaModel(directory: directory, residency: .streamed)
        if let reference = referenceText ?? FitCheck.defaultReference() {
            let fit = try RunFacts.stage("fit check") { try FitCheck.run(model: network, set: set, tokenizer: tokenizer, referencePath: reference) }
            report.fit = fit
            if fit.isFar {
                note(String(format: "the model's perplexity on the calibration data (%.1f) is %.1f× its perplexity on %@ (%.1f): "
                            + "the data are far from the model's own text; calibrate on data like what it will serve",
                            fit.calibrationPerplexity, fit.ratio, CalibrationReport.relative(fit.reference), fit.referencePerplexity))
            }
            report.preflight = Preflight.estimate(model: network, set: set, hessian: !noHessian, sequential: false,
                                                  forwardTokensPerSecond: fit.tokensPerSecond)
        } else {
            note("no reference text found for the data-fit check (give --reference-text)")
        }
        if dryRun {
            try emit(report)
            return
        }
        let calibrator = Calibrator(model: network, collectHessian: !noHessian)
        let progress = CalibrationProgressLine(enabled: !quiet)
        let started = DispatchTime.now().uptimeNanoseconds
        let (file, _) = try RunFacts.stage("calibrate") {
            try CalibrationCache.obtain(path: out!, key: key, set: set, calibrator: calibrator, known: cache, recompute: force,
                                        replace: force, progress: progress.update)
        }
        progress.finish()
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        report.blockPasses = calibrator.blockPasses
        report.output = file.path
        try emit(report)
    }

    private func note(_ message: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }

    private func emit(_ report: CalibrationReport) throws {
        if json {
            try JSONOutput.print(report)
        } else {
            print(report.text)
        }
    }
}

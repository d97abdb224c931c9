import ArgumentParser
import Foundation
import QuantGateAssessment
import QuantGateFormats
import QuantGateOutput
import QuantGateQuantize
import QuantGateReport
import QuantGateTensors

/// `quantgate pipeline MODEL --targets cpu,… --out DIR`: quantize → eval → gate for every target.
struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Quantize for each target, score every artefact against the checkpoint, and gate each target.",
        discussion: """
            One run does what a CI stage needs: for each --targets entry, the target's default artefact (or \
            --format, for the targets that run it: GGUF for the CPUs, FP8 for Hopper (and Ada with --format fp8), AWQ for Ada, GPTQ for Ampere and older) is written under OUT/artefacts (targets that share an artefact share one file), the \
            calibration cache OUT/calibration.h5 and the baseline pass OUT/baseline.h5 are shared, every \
            artefact is scored by one evaluator run, and each target's gate is applied. OUT/report holds \
            report.json, junit.xml, summary.md and, when every artefact passed, manifest.json.
            OUT must not exist (with --force, an OUT that an earlier pipeline run wrote is replaced whole); \
            everything is written into a temporary directory beside it and renamed to OUT when the run \
            ends with a decision (pass or fail); on an error nothing is left.
            Exit 0 when every target passes, 1 when one fails its gate, 2 for an input error, 3 internal error.
            """)

    @Argument(help: "The checkpoint: a model directory (config.json, safetensors weights, tokenizer.json).")
    var model: String

    @Option(help: "Comma-separated hardware targets: cpu, x86, arm64, apple-m (GGUF); h100, h200, gh200, h20 (FP8); l40s, l4, rtx4090, rtx6000-ada (AWQ); a100, a10, a10g, rtx3090, a6000, v100, t4 (GPTQ).")
    var targets = "cpu"

    @Option(help: "Artefact format, for every target that runs it: \(ArtefactChoice.formatHelp) (default: each target's own).")
    var format: String?

    @OptionGroup(title: "FP8") var fp8: FP8Options

    @OptionGroup(title: "GPTQ and AWQ") var grid: GridOptions

    @OptionGroup(title: "GPTQ") var gptq: GPTQOptions

    @OptionGroup(title: "AWQ") var awq: AWQOptions

    @OptionGroup var shards: ShardOptions

    @OptionGroup var calibrationData: CalibrationDataOptions

    @Option(name: .customLong("eval-text"), help: "The UTF-8 text to score (default: the built-in held-out corpus).")
    var evalText: String?

    @Option(name: .customLong("eval-data"), help: "A built-in evaluation text instead: eval (held-out), prose, code, mixed.")
    var evalData: String?

    @OptionGroup var assessment: AssessmentOptions

    @Option(help: "A gate policy file (YAML or JSON) overriding the built-in gates.")
    var policy: String?

    @Option(help: "The output directory (must not exist; --force replaces one an earlier run wrote).")
    var out: String

    @Flag(name: .customLong("dry-run"), help: "Print each stage's estimated peak memory and seconds (named as --json's run.stages of a real run), then exit without writing anything.")
    var dryRun = false

    @Flag(help: "Print the JSON report on stdout.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard evalText == nil || evalData == nil else { throw ValidationError("--eval-text and --eval-data exclude each other") }
        try FlagScope(fp8: fp8, grid: grid, gptq: gptq, awq: awq, shards: shards, calibrationData: calibrationData).check(try resolvedTargets().map(\.artefact), targets: targets)
    }

    /// Each requested target with the artefact it gets: `--format` where the target runs it, else its default.
    func resolvedTargets() throws -> [(name: String, artefact: ArtefactChoice)] {
        let names = targets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("--targets needs at least one target") }
        let formatKind = format.map(ArtefactChoice.kind(ofFormat:))
        if let format, let formatKind, !names.contains(where: { name in
            HardwareTarget.named(name).map { $0.artefact == formatKind || $0.alsoRuns.contains(formatKind) } ?? false
        }) {
            throw ValidationError("--format \(format): none of --targets \(names.joined(separator: ",")) runs \(formatKind.rawValue)")
        }
        return try names.map { name in
            let target = HardwareTarget.named(name)
            let runsFormat = formatKind.map { kind in target.map { $0.artefact == kind || $0.alsoRuns.contains(kind) } ?? false } ?? false
            do { return (name, try ArtefactChoice(target: name, format: runsFormat ? format : nil)) } catch let error as ValidationError {
                throw ValidationError("--targets: \(error.message)")
            }
        }
    }

    /// The directory artefacts' settings for `target` (written into the run's fresh output directory).
    private func directoryJob(_ target: String) -> DirectoryJob {
        DirectoryJob(model: model, maxShardBytes: shards.maxShardBytes, target: target, calibrationData: calibrationData, replace: false, quiet: quiet)
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw InputError(description: "\(model): no such file or directory") }
        // Everything refusable is refused before any work: the output, the targets, the texts and caches, the policy.
        let destination = try OutputDestination(out, kind: .directory, replace: assessment.force)
        try destination.checkWritable()
        let resolved = try resolvedTargets()
        let (textName, text) = try EvalInputs.text(file: evalText, data: evalData)
        var plan = try assessment.plan(textName: textName, text: text)
        _ = try GateStage(gate: true, target: nil, policyFile: policy, reportDirectory: nil)
        if dryRun { return try estimate(resolved, plan: plan) }
        var gateFailed = false
        try destination.write { directory in
            let root = URL(fileURLWithPath: directory)
            plan.baselineCachePath = assessment.baselineCache ?? root.appendingPathComponent("baseline.h5").path
            let paths = try quantize(resolved, into: root.appendingPathComponent("artefacts"))
            let display = StageDisplay(enabled: !quiet)
            let ordered = resolved.map(\.artefact).reduce(into: [ArtefactChoice]()) { if !$0.contains($1) { $0.append($1) } }
            var report = try Assessor(plan: plan, log: display.log, progress: display.progress)
                .run(baselinePath: model, candidates: ordered.map { CandidateRequest(path: paths[$0]!) })
            display.finish()
            // The report lists each (artefact, target) pair: one measurement, gated once per target.
            let measured = Dictionary(uniqueKeysWithValues: zip(ordered, report.candidates))
            report.candidates = resolved.map { target, artefact in
                var candidate = measured[artefact]!
                candidate.target = target
                return candidate
            }
            let stage = try GateStage(gate: true, target: nil, policyFile: policy, reportDirectory: root.appendingPathComponent("report").path)
            do {
                try stage.conclude(report: report, printJSON: json)
            } catch let exit as ExitCode where exit.rawValue == ExitStatus.gateFailed.rawValue {
                gateFailed = true  // a failed gate is a result: its reports are kept, and the exit status says it
            }
        }
        if gateFailed { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }

    /// The file or directory name of `artefact` under OUT/artefacts.
    private func artefactName(_ artefact: ArtefactChoice) -> String {
        let modelName = URL(fileURLWithPath: model).lastPathComponent
        switch artefact {
        case .gguf(let type): return "\(modelName)-\(type.rawValue).gguf"
        case .fp8: return "\(modelName)-\(fp8.scheme.tag)"
        case .gptq: return "\(modelName)-\(gptq.tag(grid))"
        case .awq: return "\(modelName)-\(awq.tag(grid))"
        }
    }

    /// `--dry-run`: every artefact's quantization (the shared calibration cache computed once), then the scoring.
    private func estimate(_ resolved: [(name: String, artefact: ArtefactChoice)], plan: AssessmentPlan) throws {
        let checkpoint = try DryRun.Checkpoint(model)
        let scope = FlagScope(fp8: fp8, grid: grid, gptq: gptq, awq: awq, shards: shards, calibrationData: calibrationData)
        let ordered = resolved.map(\.artefact).reduce(into: [ArtefactChoice]()) { if !$0.contains($1) { $0.append($1) } }
        var windows: [Int]?
        var stages: [StageEstimate] = []
        for artefact in ordered {
            let quantize = try checkpoint.quantizeEstimate(artefact, scope: scope, importanceFromData: true, gptq: gptq, awq: awq) {
                if windows == nil { windows = try checkpoint.calibrationWindows(calibrationData) }
                return windows!
            }
            // The artefacts after the first that calibrates read the shared cache it wrote.
            let cached = stages.contains { $0.name == "calibrate" }
            stages += quantize.stages.map { stage in
                guard cached && stage.name == "calibrate" else { return stage }
                return StageEstimate(name: stage.name, peakRSSBytes: checkpoint.rates.baseResidentBytes, seconds: 0,
                                     basis: "the shared calibration cache, read")
            }
        }
        let baseline = try ModelArtefact(path: model)
        let scoring = try plan.perplexity.plan(text: plan.text, name: plan.textName, tokenizer: baseline.tokenizer,
                                               configuration: checkpoint.configuration)
        let assessment = plan.estimate(windows: scoring, configuration: checkpoint.configuration,
                                       largestTensorBytes: checkpoint.source.largestTensorBytes, candidates: ordered.map(artefactName),
                                       rates: checkpoint.rates)
        try DryRun(estimate: RunEstimate(stages: stages + assessment.stages, notIncluded: assessment.notIncluded), rates: checkpoint.rates)
            .emit(json: json)
    }

    /// Writes one artefact per distinct format under `artefacts` (every target that asks for it is gated on it);
    /// returns each artefact's path.
    private func quantize(_ resolved: [(name: String, artefact: ArtefactChoice)], into artefacts: URL) throws -> [ArtefactChoice: String] {
        let display = StageDisplay(enabled: !quiet)
        let modelName = URL(fileURLWithPath: model).lastPathComponent
        let calibrationCache = artefacts.deletingLastPathComponent().appendingPathComponent("calibration.h5").path
        var paths: [ArtefactChoice: String] = [:]
        for (target, artefact) in resolved where paths[artefact] == nil {
            display.log("quantize \(modelName) → \(artefact) for \(target)")
            switch artefact {
            case .gguf(let type):
                let path = artefacts.appendingPathComponent(artefactName(artefact)).path
                let job = GGUFQuantizeJob(model: model, fileType: type, target: target, calibrationData: calibrationData,
                                          calibrationCache: calibrationCache, imatrix: nil, useImportance: true, saveImatrix: nil, quiet: quiet)
                _ = try job.run(out: path)
                paths[artefact] = path
            case .fp8:
                let path = artefacts.appendingPathComponent(artefactName(artefact)).path
                let job = FP8QuantizeJob(job: directoryJob(target), options: fp8, calibrationCache: calibrationCache)
                _ = try job.run(out: path)
                paths[artefact] = path
            case .gptq:
                let path = artefacts.appendingPathComponent(artefactName(artefact)).path
                let job = GPTQQuantizeJob(job: directoryJob(target), options: gptq, grid: grid)
                _ = try job.run(out: path)
                paths[artefact] = path
            case .awq:
                let path = artefacts.appendingPathComponent(artefactName(artefact)).path
                let job = AWQQuantizeJob(job: directoryJob(target), options: awq, grid: grid)
                _ = try job.run(out: path)
                paths[artefact] = path
            }
        }
        return paths
    }
}

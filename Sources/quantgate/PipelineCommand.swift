import ArgumentParser
import Foundation
import QuantGateAssessment
import QuantGateFormats
import QuantGateQuantize
import QuantGateReport

/// `quantgate pipeline MODEL --targets cpu,… --out DIR`: quantize → eval → gate for every target.
struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Quantize for each target, score every artefact against the checkpoint, and gate each target.",
        discussion: """
            One run does what a CI stage needs: for each --targets entry, the target's default artefact (or \
            --format) is written under OUT/artefacts (targets that share an artefact share one file), the \
            calibration cache OUT/calibration.h5 and the baseline pass OUT/baseline.h5 are shared, every \
            artefact is scored by one evaluator run, and each target's gate is applied. OUT/report holds \
            report.json, junit.xml, summary.md and, when every artefact passed, manifest.json.
            Exit 0 when every target passes, 1 when one fails its gate, 2 for an input error, 3 internal error.
            """)

    @Argument(help: "The checkpoint: a model directory (config.json, safetensors weights, tokenizer.json).")
    var model: String

    @Option(help: "Comma-separated hardware targets (cpu, x86, arm64, apple-m; the GPU targets arrive with their formats).")
    var targets = "cpu"

    @Option(help: "Artefact format for the GGUF targets, e.g. gguf:Q8_0 (default: the target's, Q4_K_M).")
    var format: String?

    @OptionGroup var calibrationData: CalibrationDataOptions

    @Option(name: .customLong("eval-text"), help: "The UTF-8 text to score (default: the built-in held-out corpus).")
    var evalText: String?

    @Option(name: .customLong("eval-data"), help: "A built-in evaluation text instead: eval (held-out), prose, code, mixed.")
    var evalData: String?

    @OptionGroup var assessment: AssessmentOptions

    @Option(help: "A gate policy file (YAML or JSON) overriding the built-in gates.")
    var policy: String?

    @Option(help: "The output directory.")
    var out: String

    @Flag(help: "Print the JSON report on stdout.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard evalText == nil || evalData == nil else { throw ValidationError("--eval-text and --eval-data exclude each other") }
        _ = try resolvedTargets()
    }

    /// Each requested target with the GGUF file type it gets.
    func resolvedTargets() throws -> [(name: String, type: GGUFFileType)] {
        let names = targets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("--targets needs at least one target") }
        return try names.map { name in
            guard let target = HardwareTarget.named(name) else {
                throw ValidationError("--targets: unknown target \(name) (known: \(HardwareTarget.allNames.joined(separator: ", ")))")
            }
            guard target.artefact == .gguf else {
                throw ValidationError("--targets: \(name) needs the \(target.artefact.rawValue) artefact, which this version does not write yet")
            }
            return (name, try GGUFFileType(formatFlag: format))
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw InputError(description: "\(model): no such file or directory") }
        let stage = try GateStage(gate: true, target: nil, policyFile: policy, reportDirectory: URL(fileURLWithPath: out).appendingPathComponent("report").path)
        let resolved = try resolvedTargets()
        let (textName, text) = try EvalInputs.text(file: evalText, data: evalData)
        var plan = try assessment.plan(textName: textName, text: text)
        let root = URL(fileURLWithPath: out)
        let artefacts = root.appendingPathComponent("artefacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        plan.baselineCachePath = assessment.baselineCache ?? root.appendingPathComponent("baseline.h5").path
        let display = StageDisplay(enabled: !quiet)

        // One artefact per distinct format; every target that asks for it is gated on it.
        let modelName = URL(fileURLWithPath: model).lastPathComponent
        var paths: [GGUFFileType: String] = [:]
        for (target, type) in resolved where paths[type] == nil {
            let path = artefacts.appendingPathComponent("\(modelName)-\(type.rawValue).gguf").path
            display.log("quantize \(modelName) → \(type.rawValue) for \(target)")
            let job = GGUFQuantizeJob(model: model, fileType: type, target: target, calibrationData: calibrationData,
                                      calibrationCache: root.appendingPathComponent("calibration.h5").path,
                                      imatrix: nil, useImportance: true, saveImatrix: nil, quiet: quiet)
            _ = try job.run(out: path)
            paths[type] = path
        }
        let ordered = resolved.map(\.type).reduce(into: [GGUFFileType]()) { if !$0.contains($1) { $0.append($1) } }
        var report = try Assessor(plan: plan, log: display.log, progress: display.progress)
            .run(baselinePath: model, candidates: ordered.map { CandidateRequest(path: paths[$0]!) })
        display.finish()
        // The report lists each (artefact, target) pair: one measurement, gated once per target.
        let measured = Dictionary(uniqueKeysWithValues: zip(ordered, report.candidates))
        report.candidates = resolved.map { target, type in
            var candidate = measured[type]!
            candidate.target = target
            return candidate
        }
        try stage.conclude(report: report, printJSON: json)
    }
}

import ArgumentParser
import Foundation
import QuantGateAssessment
import QuantGateEval
import QuantGateModel
import QuantGateReport
import QuantGateTensors

/// `quantgate eval BASELINE [CANDIDATE…]`: one model's perplexity, or candidates scored against their baseline.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's perplexity, or score artefacts against their baseline (and gate them).",
        discussion: """
            With one model: its perplexity with llama-perplexity's standard error.
            With candidates: every candidate (a GGUF file or a model directory; the format is detected from \
            the files) is scored against the BASELINE (the original checkpoint) on the same token ids:
              structural checks (quantized tensors as the format prescribes, finite, non-constant, size band, \
            tokenizer and special ids equal the baseline's), before any compute;
              perplexity Δ% with a paired bootstrap interval (windows resampled, the same draw for both \
            models), mean / p99 / max KL(baseline ‖ candidate), top-1 agreement and token flips;
              task suites (multiple choice by log-likelihood, lm-evaluation-harness style; exact match by \
            greedy generation with a KV cache): accuracy ± stderr, Δ with a paired interval, flips, McNemar p;
              a generation smoke test (empty output, EOS, repetition, gibberish judged by the baseline).
            A baseline checkpoint whose tensors disagree with config.json, are not stored as floats or hold \
            a NaN or infinite value is refused (exit 2), and so is a candidate that cannot be read: every \
            candidate is read and checked before the baseline runs.
            The baseline is run once; --baseline-cache keeps its distributions for later runs.
            --gate --target T applies the target's gate (or --policy FILE) and exits 0 pass, 1 fail, \
            2 input error (a corrupt artefact: no manifest is written), 3 internal error.
            Protocols: hf (the transformers recipe: windows of --ctx every --stride tokens, all tokens scored) \
            and llama.cpp (llama-perplexity: --ctx chunks, BOS first, second half scored; the default for comparisons).
            """)

    @Argument(help: "The baseline (a model directory or .gguf), then the candidates to score against it.")
    var models: [String]

    @Option(help: "The UTF-8 text to score (default: the built-in held-out corpus, --data eval).")
    var text: String?

    @Option(name: .customLong("data"), help: "A built-in text instead of --text: eval (held-out), prose, code, mixed.")
    var data: String?

    @OptionGroup var assessment: AssessmentOptions

    @OptionGroup var gate: GateOptions

    @Flag(name: .customLong("dry-run"), help: "Print each stage's estimated peak memory and seconds (named as --json's run.stages of a real run), then exit without scoring or writing anything.")
    var dryRun = false

    @Flag(help: "Print the JSON report (or, for one model, the perplexity result) on stdout.")
    var json = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard text == nil || data == nil else { throw ValidationError("--text and --data exclude each other") }
        guard !models.isEmpty else { throw ValidationError("give the model to evaluate (and candidates to compare with it)") }
        if models.count == 1 && (gate.gate || gate.report != nil || assessment.baselineCache != nil) {
            throw ValidationError("--gate, --report and --baseline-cache need candidates: quantgate eval BASELINE CANDIDATE…")
        }
    }

    func run() throws {
        for path in models where !FileManager.default.fileExists(atPath: path) {
            throw InputError(description: "\(path): no such file or directory")
        }
        if models.count == 1 { return try perplexityOnly(models[0]) }
        let (name, body) = try EvalInputs.text(file: text, data: data)
        let plan = try assessment.plan(textName: name, text: body)
        if dryRun {
            let baseline = try ModelArtefact(path: models[0])
            let checkpoint = try DryRun.Checkpoint(artefact: baseline)
            let windows = try plan.perplexity.plan(text: body, name: name, tokenizer: baseline.tokenizer, configuration: baseline.configuration)
            let estimate = plan.estimate(windows: windows, configuration: baseline.configuration, largestTensorBytes: checkpoint.source.largestTensorBytes,
                                         candidates: Array(models.dropFirst()), rates: checkpoint.rates)
            return try DryRun(estimate: estimate, rates: checkpoint.rates).emit(json: json)
        }
        let stage = try gate.prepare(replace: assessment.force)
        let display = StageDisplay(enabled: !quiet)
        let report = try Assessor(plan: plan, log: display.log, progress: display.progress)
            .run(baselinePath: models[0], candidates: models.dropFirst().map { CandidateRequest(path: $0, target: gate.target) })
        display.finish()
        try stage.conclude(report: report, printJSON: json)
    }

    /// One model: perplexity and its standard error.
    private func perplexityOnly(_ path: String) throws {
        let runner = PerplexityRun(protocolKind: assessment.protocolKind ?? .hf, context: assessment.ctx,
                                   stride: assessment.stride, allowLongContext: assessment.allowLongContext)
        let (name, body) = try EvalInputs.text(file: text, data: data)
        let artefact = try ModelArtefact(path: path)
        if dryRun {
            let checkpoint = try DryRun.Checkpoint(artefact: artefact)
            let windows = try runner.plan(text: body, name: text ?? name, tokenizer: artefact.tokenizer, configuration: artefact.configuration)
            let estimate = PerplexityRun.estimate(windows: windows, configuration: artefact.configuration,
                                                  largestTensorBytes: checkpoint.source.largestTensorBytes, rates: checkpoint.rates)
            return try DryRun(estimate: estimate, rates: checkpoint.rates).emit(json: json)
        }
        let checking = Progress(enabled: !quiet, label: "check \(artefact.name)")
        try RunFacts.stage("check") { try artefact.validateSource { done, total, _ in checking.update(done, of: total) } }
        checking.finish()
        // Check the text and settings before converting any weights.
        let windows = try runner.plan(text: body, name: text ?? name, tokenizer: artefact.tokenizer,
                                      configuration: artefact.configuration)
        let progress = Progress(enabled: !quiet, label: "eval")
        let result = try RunFacts.stage("perplexity") {
            try runner.evaluate(model: try artefact.model(), windows: windows) { done, total in progress.update(done, of: total) }
        }
        progress.finish()
        guard result.perplexity.isFinite else { throw AssessmentError.nonFinitePerplexity(path: path, value: result.perplexity) }
        if json {
            try JSONOutput.print(result)
        } else {
            print(String(format: "perplexity  %.4f ± %.5f  (%@ protocol, ctx %d%@)", result.perplexity, result.standardError,
                         result.protocolName, result.context, result.stride.map { ", stride \($0)" } ?? ""))
            print(String(format: "mean NLL    %.6f nats over %d scored tokens in %d windows", result.meanNLL,
                         result.tokensScored, result.windows))
            print(String(format: "speed       %.0f tokens/s (%.1f s)", result.tokensPerSecond, result.seconds))
        }
    }
}

extension PerplexityProtocol: ExpressibleByArgument {}

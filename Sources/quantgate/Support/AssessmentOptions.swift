import ArgumentParser
import Foundation
import QuantGateAssessment
import QuantGateEval

/// The flags that say what candidates are measured on: `eval` (with candidates) and `pipeline` share them.
struct AssessmentOptions: ParsableArguments {
    @Option(help: "Tokens per window.")
    var ctx: Int = 512

    @Option(help: "Window step for the hf protocol.")
    var stride: Int?

    @Option(name: .customLong("protocol"), help: "hf or llama.cpp (default for comparisons: llama.cpp, as llama-perplexity --kl-divergence).")
    var protocolKind: PerplexityProtocol?

    @Option(parsing: .upToNextOption, help: "Task suites: builtin (every built-in suite), suite names, or JSONL files (default: builtin).")
    var tasks: [String] = []

    @Flag(name: .customLong("no-tasks"), help: "Skip the task suites (a gate with a task-accuracy threshold then fails: not measured).")
    var noTasks = false

    @Flag(name: .customLong("no-smoke"), help: "Skip the generation smoke test (a gate requiring it then fails: not measured).")
    var noSmoke = false

    @Option(name: .customLong("smoke-prompts"), help: "JSONL prompts for the smoke test (default: the built-in ones).")
    var smokePrompts: String?

    @Option(name: .customLong("smoke-tokens"), help: "Tokens generated per smoke prompt.")
    var smokeTokens = 64

    @Option(help: "Bootstrap resamples for every interval.")
    var bootstrap = 1000

    @Option(name: .customLong("bootstrap-seed"), help: "Bootstrap seed (same seed, same intervals).")
    var bootstrapSeed: UInt64 = 0

    @Option(name: .customLong("baseline-cache"), help: "HDF5 file caching the baseline's distributions between runs.")
    var baselineCache: String?

    @Flag(help: "Replace existing outputs: a --report or pipeline --out directory QuantGate wrote, a --baseline-cache file that is not a baseline file.")
    var force = false

    @Flag(name: .customLong("allow-long-context"), help: "Allow --ctx beyond the model's max_position_embeddings.")
    var allowLongContext = false

    func validate() throws {
        guard (1...100_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be in 1...100000") }
        guard (1...4096).contains(smokeTokens) else { throw ValidationError("--smoke-tokens must be in 1...4096") }
        guard !(noTasks && !tasks.isEmpty) else { throw ValidationError("--tasks and --no-tasks exclude each other") }
    }

    /// Resolves files and built-ins into a plan over `text` (input errors surface here, before any model is loaded).
    func plan(textName name: String, text body: String) throws -> AssessmentPlan {
        if let baselineCache { try BaselineCache.checkWritable(path: baselineCache, replace: force) }
        let suites = noTasks ? [] : try EvalInputs.suites(tasks.isEmpty ? ["builtin"] : tasks)
        let smoke = noSmoke ? nil : SmokeTest(prompts: try SmokeTest.prompts(path: smokePrompts ?? EvalInputs.smokePromptsPath()),
                                               maxTokens: smokeTokens)
        return AssessmentPlan(
            textName: name, text: body,
            perplexity: PerplexityRun(protocolKind: protocolKind ?? .llamaCpp, context: ctx, stride: stride, allowLongContext: allowLongContext),
            suites: suites, smoke: smoke, bootstrap: PairedBootstrap(resamples: bootstrap, seed: bootstrapSeed),
            baselineCachePath: baselineCache, replaceBaselineCache: force)
    }
}

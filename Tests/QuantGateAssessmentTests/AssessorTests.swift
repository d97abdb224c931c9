import Foundation
import QuantGateAssessment
import QuantGateEval
import QuantGateFormats
import QuantGateModel
import QuantGateOutput
import QuantGateQuantize
import QuantGateReport
import QuantGateTestSupport
import Testing

/// End to end on the example model: GGUF artefacts written by the exporter, read back from disk and
/// scored against the checkpoint. Small settings (ctx 128, a few windows) keep it to seconds.
@Suite("Assessor", .serialized)
struct AssessorTests {
    /// A plan over the first 24 000 characters of the held-out text, a small inline suite and 3 smoke prompts.
    static func plan(in directory: URL, cache: String? = nil) throws -> AssessmentPlan {
        let text = String(try PerplexityRun.readText(Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Calibration/eval/hamlet.txt").path).prefix(24_000))
        let suitePath = directory.appendingPathComponent("mini.jsonl").path
        try """
            {"id": "a", "kind": "choice", "context": "To be, or not to be, that is the", "choices": ["question", "banana", "seventeen"], "gold": 0}
            {"id": "b", "kind": "choice", "context": "Good night, sweet", "choices": ["prince", "table"], "gold": 0}
            {"id": "c", "context": "My lord, I", "choices": ["will", "xylophone"], "gold": 0}
            {"id": "d", "kind": "exact", "prompt": "HAMLET.\\nTo be, or not to", "target": "be", "stop": [",", "\\n"], "max_tokens": 4}

            """.write(toFile: suitePath, atomically: true, encoding: .utf8)
        let suite = try TaskSuite.load(path: suitePath)
        return AssessmentPlan(
            textName: "hamlet-24k", text: text, perplexity: PerplexityRun(protocolKind: .llamaCpp, context: 128),
            suites: [(suite, try FileDigest.sha256(path: suitePath))],
            smoke: SmokeTest(prompts: ["HAMLET.\n", "KING.\nWhat", "Enter"], maxTokens: 12),
            bootstrap: PairedBootstrap(resamples: 200, seed: 7), baselineCachePath: cache)
    }

    static func export(_ type: GGUFFileType, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("bard-\(type.rawValue).gguf").path
        _ = try GGUFExporter.export(directory: ModelDirectory(path: Fixtures.exampleModel.path), fileType: type,
                                    importance: nil, to: path)
        return path
    }

    @Test("Q8_0 sits close to the baseline, Q2_K and a damaged file far from it; all structural checks read the files")
    func ordering() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let q8 = try Self.export(.q8_0, in: directory), q2 = try Self.export(.q2_K, in: directory)
        let damaged = directory.appendingPathComponent("damaged.gguf").path
        try GGUFDamage.reverseRows(of: "token_embd.weight", in: q8, to: damaged)
        let report = try Assessor(plan: Self.plan(in: directory))
            .run(baselinePath: Fixtures.exampleModel.path,
                 candidates: [CandidateRequest(path: q8, target: "cpu"), CandidateRequest(path: q2), CandidateRequest(path: damaged)])
        #expect(report.schema == EvalReport.currentSchema)
        #expect(report.settings.windows == report.settings.tokensScored / 63)   // llama.cpp chunks of 128 score 63 tokens
        #expect(report.settings.baselineStorage == "full-f16")
        let (a, b, c) = (report.candidates[0], report.candidates[1], report.candidates[2])
        for candidate in [a, b, c] {
            #expect(candidate.error == nil)
            let failed = candidate.structural.filter { !$0.passed }
            #expect(failed.isEmpty, "\(candidate.name): \(failed)")
            #expect(candidate.files.count == 1 && candidate.files[0].sha256.count == 64)
        }
        #expect(a.target == "cpu" && a.quantization == "Q8_0" && b.quantization == "Q2_K")
        func value(_ c: CandidateReport, _ id: String) throws -> MetricResult { try #require(c.metric(id)) }
        let kld8 = try value(a, MetricID.meanKLD), kld2 = try value(b, MetricID.meanKLD), kldBad = try value(c, MetricID.meanKLD)
        #expect(kld8.value > 0 && kld8.value < 0.01, "Q8_0 mean KLD \(kld8.value)")
        #expect(kld2.value > 10 * kld8.value && kldBad.value > 10 * kld8.value)
        #expect(kld8.lower! <= kld8.value && kld8.value <= kld8.upper!)
        #expect(try value(a, MetricID.top1AgreementPercent).value > 95)
        #expect(try value(c, MetricID.perplexityDeltaPercent).lower! > 50)
        #expect(try value(c, MetricID.top1AgreementPercent).upper! < 50)
        #expect(try value(a, MetricID.p99KLD).value >= kld8.value)
        #expect(a.metric(MetricID.taskAccuracyDelta("mini")) != nil && a.tasks.first?.items == 4)
        #expect(a.metric(MetricID.smoke)?.value == 1)
    }

    @Test("same inputs, same report (bootstrap included); a second run reads the baseline from its cache")
    func deterministicAndCached() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let q8 = try Self.export(.q8_0, in: directory)
        let cache = directory.appendingPathComponent("baseline.h5").path
        var logs: [String] = []
        let first = try Assessor(plan: Self.plan(in: directory, cache: cache))
            .run(baselinePath: Fixtures.exampleModel.path, candidates: [CandidateRequest(path: q8)])
        let second = try Assessor(plan: Self.plan(in: directory, cache: cache), log: { logs.append($0) })
            .run(baselinePath: Fixtures.exampleModel.path, candidates: [CandidateRequest(path: q8)])
        #expect(first == second)
        #expect(logs.contains { $0.contains("from the cache") })
        // A file that is not a baseline file is refused (and kept) without replace; with it, it is recomputed, same result.
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: cache))
        #expect(throws: OutputError.self) {
            try Assessor(plan: Self.plan(in: directory, cache: cache)).run(baselinePath: Fixtures.exampleModel.path, candidates: [CandidateRequest(path: q8)])
        }
        #expect(try String(contentsOfFile: cache, encoding: .utf8) == "not hdf5")
        logs = []
        var replacing = try Self.plan(in: directory, cache: cache)
        replacing.replaceBaselineCache = true
        let third = try Assessor(plan: replacing, log: { logs.append($0) })
            .run(baselinePath: Fixtures.exampleModel.path, candidates: [CandidateRequest(path: q8)])
        #expect(third == first)
        #expect(logs.contains { $0.contains("recomputing") })
    }

    @Test("a truncated artefact is reported as unreadable, naming the file, before any baseline forward pass")
    func truncated() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let q8 = try Self.export(.q8_0, in: directory)
        let cut = directory.appendingPathComponent("cut.gguf").path
        try GGUFDamage.truncate(q8, by: 1000, to: cut)
        var logs: [String] = []
        let assessor = Assessor(plan: try Self.plan(in: directory), log: { logs.append($0) })
        let error = #expect(throws: AssessmentError.self) {
            try assessor.run(baselinePath: Fixtures.exampleModel.path, candidates: [CandidateRequest(path: q8), CandidateRequest(path: cut)])
        }
        #expect(error.map { "\($0)".contains("cut.gguf") } == true, "\(String(describing: error))")
        #expect(!logs.contains { $0.contains("windows, storing") || $0.contains("task suite") }, "\(logs)")
    }
}


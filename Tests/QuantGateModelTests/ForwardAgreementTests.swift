import Foundation
import QuantGateModel
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// The forward pass against transformers' `LlamaForCausalLM` / `Qwen2ForCausalLM` in f32
/// (golden outputs from `python3 Tools/make_golden_forward.py`): two 512-token windows of held-out
/// text; full logit rows every 16 positions, and at every position the target token's logit and the
/// log-sum-exp (so every position's log-probability is checked).
@Suite("Forward pass agrees with transformers")
struct ForwardAgreementTests {
    /// |Δlogit| bound: measured 1.4e-5 (bard-5m) and 2.4e-6 (tiny-qwen2-mqa), from f32 summation order;
    /// 2e-4 is 5× tighter than the required 1e-3 and leaves room for BLAS kernels that sum in another order.
    static let tolerance: Float = 2e-4

    @Test("logits match transformers", arguments: ["bard-5m", "tiny-qwen2-mqa", "tiny-llama-linear"])
    func logitsMatch(model name: String) throws {
        let directory = try ModelDirectory(path: Fixtures.root.appendingPathComponent(name).path)
        let model = try LlamaModel(directory: directory)
        let golden = try SafetensorsFile(path: Fixtures.golden("forward_\(name).safetensors").path)
        let tokens = try golden.floats(named: "tokens").map { Int($0) }
        let rows = try golden.floats(named: "rows").map { Int($0) }
        let goldenRows = try golden.floats(named: "logits_rows")
        let targetLogit = try golden.floats(named: "target_logit")
        let logSumExp = try golden.floats(named: "logsumexp")
        let vocab = directory.configuration.vocabSize
        let windows = 2
        let t = tokens.count / windows
        for window in 0..<windows {
            let ids = Array(tokens[(window * t)..<((window + 1) * t)])
            let logits = try model.logits(tokens: ids)
            var worst: Float = 0
            for (r, position) in rows.enumerated() {
                let ours = logits.row(position)
                let base = (window * rows.count + r) * vocab
                for j in 0..<vocab { worst = max(worst, abs(ours[j] - goldenRows[base + j])) }
            }
            #expect(worst <= Self.tolerance, "\(name) window \(window): max |Δlogit| \(worst) over full rows")
            var worstLogProb: Float = 0
            for position in 0..<(t - 1) {
                let row = logits.row(position)
                let m = row.max() ?? 0
                let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
                let ours = row[ids[position + 1]] - lse
                let theirs = targetLogit[window * (t - 1) + position] - logSumExp[window * (t - 1) + position]
                worstLogProb = max(worstLogProb, abs(ours - theirs))
            }
            #expect(worstLogProb <= Self.tolerance, "\(name) window \(window): max |Δ log p(target)| \(worstLogProb)")
        }
    }

    @Test("the per-block API with a position offset matches transformers' position_ids")
    func positionOffset() throws {
        let directory = try ModelDirectory(path: Fixtures.exampleModel.path)
        let model = try LlamaModel(directory: directory)
        let golden = try SafetensorsFile(path: Fixtures.golden("forward_offset_bard-5m.safetensors").path)
        let tokens = try golden.floats(named: "tokens").map { Int($0) }
        let rows = try golden.floats(named: "rows").map { Int($0) }
        let start = Int(try golden.floats(named: "start")[0])
        let expected = try golden.floats(named: "logits_rows")
        var hidden = try model.embed(tokens)
        for layer in 0..<directory.configuration.layerCount { try model.runBlock(layer, hidden: &hidden, start: start) }
        let logits = try model.logits(hidden: hidden)
        let vocab = directory.configuration.vocabSize
        var worst: Float = 0
        for (r, position) in rows.enumerated() {
            for j in 0..<vocab { worst = max(worst, abs(logits.values[position * vocab + j] - expected[r * vocab + j])) }
        }
        #expect(worst <= Self.tolerance, "max |Δlogit| \(worst) at offset \(start)")
    }

    @Test("streamed and resident weights give identical logits")
    func residencyDoesNotChangeResults() throws {
        let directory = try ModelDirectory(path: Fixtures.root.appendingPathComponent("tiny-qwen2-mqa").path)
        let ids = Array(0..<40).map { ($0 * 97) % 4096 }
        let resident = try LlamaModel(directory: directory, residency: .resident).logits(tokens: ids)
        let streamed = try LlamaModel(directory: directory, residency: .streamed).logits(tokens: ids)
        #expect(resident == streamed)
    }

    @Test("layer-major passes over streamed weights equal window-major passes over resident ones bit for bit")
    func layerMajorEqualsWindowMajor() throws {
        let directory = try ModelDirectory(path: Fixtures.exampleModel.path)
        // The last window is long enough that the last block computes only its tail (from row 256, the attention
        // row block holding row 300).
        let windows = (0..<5).map { w in (0..<(24 + 8 * w)).map { ($0 * 131 + w * 977) % 4096 } } + [(0..<400).map { ($0 * 37 + 11) % 4096 }]
        let rows = windows.enumerated().map { w, tokens in (w == 5 ? 300 : w % 2 == 0 ? 0 : tokens.count / 2)..<(tokens.count - 1) }
        func run(_ residency: LlamaModel.Residency, _ order: PassOrder, budget: Int) throws -> [Matrix] {
            var out: [Matrix] = []
            var steps: [Int] = []
            let total = windows.count * (directory.configuration.layerCount + 1)
            try LlamaModel(directory: directory, residency: residency)
                .logits(windows: windows, rows: rows, order: order, hiddenBudgetBytes: budget, progress: { done, all in
                    #expect(all == total)
                    steps.append(done)
                }) { index, logits in
                    #expect(index == out.count, "windows arrive in order")
                    out.append(logits)
                }
            #expect(steps.last == total && steps == steps.sorted() && Set(steps).count == steps.count, "progress \(steps)")
            return out
        }
        let windowMajor = try run(.resident, .windowMajor, budget: 1 << 30)
        // A budget of 100 tokens' hidden states: four groups (24 + 32 + 40, 48, 56, 400), so group boundaries are exercised too.
        let budget = 100 * directory.configuration.hiddenSize * MemoryLayout<Float>.stride
        let layerMajor = try run(.streamed, .automatic, budget: budget)
        #expect(windowMajor == layerMajor)
        // Scored rows only: each equals the same row of the whole window's logits to f32 rounding (a product of
        // fewer rows may take OpenBLAS's small-matrix kernel, and its Haswell/Zen sgemm blocks the rows of a
        // product by their count, both summing in another order).
        let vocab = directory.configuration.vocabSize
        for w in [1, 5] {
            let whole = try LlamaModel(directory: directory).logits(tokens: windows[w])
            #expect(layerMajor[w].rows == rows[w].count)
            let worst = zip(whole.values[(rows[w].lowerBound * vocab)...], layerMajor[w].values).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "window \(w): max |Δlogit| \(worst)")
        }
    }

    @Test("an out-of-vocabulary token id is an error naming the position")
    func badToken() throws {
        let model = try LlamaModel(directory: ModelDirectory(path: Fixtures.exampleModel.path))
        #expect(throws: ModelError.tokenOutsideVocabulary(position: 1, token: 4096, vocabularySize: 4096)) {
            try model.logits(tokens: [5, 4096])
        }
    }
}

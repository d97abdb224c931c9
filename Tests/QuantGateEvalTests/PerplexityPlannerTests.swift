import QuantGateEval
import Testing

@Suite("Perplexity window planning")
struct PerplexityPlannerTests {
    /// The targets the transformers docs loop scores, transcribed: labels of the last `trg_len`
    /// positions of each window, minus the window's first position (the model shifts labels by one).
    static func transformersTargets(length: Int, context: Int, step: Int) -> [Int] {
        var targets: [Int] = []
        var previousEnd = 0
        for begin in stride(from: 0, to: length, by: step) {
            let end = min(begin + context, length)
            let targetLength = end - previousEnd
            let labelled = (end - targetLength)..<end
            targets += labelled.filter { $0 > begin }
            previousEnd = end
            if end == length { break }
        }
        return targets
    }

    @Test("hf scores exactly the tokens the transformers recipe scores, each once",
          arguments: [(1000, 128, 128), (1000, 128, 64), (1000, 128, 1), (300, 128, 100), (128, 128, 128)])
    func hfMatchesTransformersLoop(length: Int, context: Int, stride: Int) {
        let tokens = Array(0..<length)
        let windows = PerplexityPlanner.hf(tokens: tokens, context: context, stride: stride)
        var scoredTargets: [Int] = []
        for window in windows {
            #expect(window.tokens.count <= context)
            for position in window.firstScored..<(window.tokens.count - 1) { scoredTargets.append(window.tokens[position + 1]) }
        }
        #expect(scoredTargets == Self.transformersTargets(length: length, context: context, step: stride))
        #expect(Set(scoredTargets).count == scoredTargets.count)
        #expect(windows.last?.tokens.last == length - 1)
        if stride < context { #expect(scoredTargets == Array(1..<length), "overlapping windows score every token but the first") }
    }

    @Test("hf with stride = ctx: consecutive windows, the last one shorter")
    func hfConsecutive() {
        let windows = PerplexityPlanner.hf(tokens: Array(0..<300), context: 128, stride: 128)
        #expect(windows.map(\.tokens.count) == [128, 128, 44])
        #expect(windows.map(\.firstScored) == [0, 0, 0])
        #expect(windows.map(\.scoredCount) == [127, 127, 43])
    }

    @Test("llama.cpp: whole chunks only, BOS first, second half scored")
    func llamaCppChunks() {
        let windows = PerplexityPlanner.llamaCpp(tokens: Array(100..<1170), context: 512, bos: 7)
        #expect(windows.count == 2)
        #expect(windows[0].tokens.first == 7 && windows[0].tokens[1] == 101)
        #expect(windows[1].tokens.first == 7 && windows[1].tokens[1] == 613)
        #expect(windows.allSatisfy { $0.firstScored == 256 && $0.scoredCount == 255 })
        let noBOS = PerplexityPlanner.llamaCpp(tokens: Array(100..<1170), context: 512, bos: nil)
        #expect(noBOS[1].tokens.first == 612)
    }
}

import Foundation
import QuantGateModel
import QuantGateTestSupport
import Testing

/// Incremental decoding with a KV cache computes what one full prefill computes.
@Suite("KV cache")
struct KVCacheTests {
    @Test("prefill + chunks + single tokens give the full pass's logits",
          arguments: ["bard-5m", "tiny-qwen2-mqa", "tiny-llama-linear"])
    func incrementalEqualsFull(model name: String) throws {
        let directory = try ModelDirectory(path: Fixtures.root.appendingPathComponent(name).path)
        let model = try LlamaModel(directory: directory)
        var random = SplitMix64(seed: 11)
        let tokens = (0..<200).map { _ in Int(random.next() % UInt64(directory.configuration.vocabSize)) }
        let full = try model.logits(tokens: tokens)
        var cache = KVCache(configuration: directory.configuration)
        // 130 tokens crosses attention's 128-row block; then a 7-token chunk; then one at a time.
        var pieces: [[Int]] = [Array(tokens[0..<130]), Array(tokens[130..<137])]
        pieces += tokens[137...].map { [$0] }
        var row = 0
        var worst: Float = 0
        for piece in pieces {
            let logits = try model.extend(&cache, with: piece)
            for r in 0..<piece.count {
                for j in 0..<logits.columns {
                    worst = max(worst, abs(logits.values[r * logits.columns + j] - full.values[(row + r) * full.columns + j]))
                }
            }
            row += piece.count
        }
        #expect(cache.length == tokens.count)
        // Same arithmetic up to BLAS summation order for different matrix shapes.
        #expect(worst < 1e-4, "\(name): max |Δlogit| \(worst)")
    }

    @Test("a copied cache extends independently of the original")
    func copiesAreIndependent() throws {
        let directory = try ModelDirectory(path: Fixtures.exampleModel.path)
        let model = try LlamaModel(directory: directory)
        var shared = KVCache(configuration: directory.configuration)
        _ = try model.extend(&shared, with: [0, 100, 200, 300])
        var a = shared, b = shared
        let viaA = try model.extend(&a, with: [400])
        _ = try model.extend(&b, with: [500, 600])
        let again = try model.extend(&shared, with: [400])
        #expect(viaA == again)
        #expect(a.length == 5 && b.length == 6 && shared.length == 5)
    }
}

import CBLAS
import Foundation
import QuantGateTensors

/// Prefill speed of ``LlamaModel`` next to raw `cblas_sgemm` on the model's own matrix shapes,
/// measured in the same run (the ratio is what to compare across machines).
public enum ForwardBenchmark {
    public struct Result: Sendable, Encodable {
        public var tokens: Int
        public var prefillTokensPerSecond: Double
        /// FLOPs of a prefill (projections, attention, output head) per second of our forward pass.
        public var prefillGFLOPs: Double
        /// `cblas_sgemm` alone on the same projection shapes, OpenBLAS threaded over all cores, no other work.
        public var sgemmGFLOPs: Double
        /// `prefillGFLOPs / sgemmGFLOPs`.
        public var ratioToSGEMM: Double
        /// The OpenBLAS kernel family in use (its CPU detection, or OPENBLAS_CORETYPE).
        public var blasCore: String
    }

    /// Times a prefill of `tokens` pseudo-random tokens, best of `repeats`.
    public static func run(model: LlamaModel, tokens: Int, repeats: Int = 3) throws -> Result {
        let c = model.configuration
        var rng = SplitMix64(seed: 0x5EED)
        let ids = (0..<tokens).map { _ in Int.random(in: 0..<c.vocabSize, using: &rng) }
        _ = try model.logits(tokens: ids)  // warm up: page in weights, start threads
        let forward = try BenchmarkTiming.best(repeats) { _ = try model.logits(tokens: ids) }

        // The GEMMs of one prefill: [T, in] · [out, in]ᵀ for every projection, and the output head.
        let shapes = [(c.hiddenSize, c.headCount * c.headDim), (c.hiddenSize, c.kvHeadCount * c.headDim),
                      (c.hiddenSize, c.kvHeadCount * c.headDim), (c.headCount * c.headDim, c.hiddenSize),
                      (c.hiddenSize, c.intermediateSize), (c.hiddenSize, c.intermediateSize),
                      (c.intermediateSize, c.hiddenSize)]
        let largest = max(c.hiddenSize, c.intermediateSize, c.headCount * c.headDim)
        let x = (0..<(tokens * largest)).map { _ in Float.random(in: -1...1, using: &rng) }
        let weightCount = shapes.map { $0.0 * $0.1 }.reduce(c.vocabSize * c.hiddenSize, max)
        let w = (0..<weightCount).map { _ in Float.random(in: -1...1, using: &rng) }
        var y = [Float](repeating: 0, count: tokens * max(c.vocabSize, largest))
        var gemmFLOPs = 2.0 * Double(tokens * c.hiddenSize * c.vocabSize)
        for (input, output) in shapes { gemmFLOPs += 2.0 * Double(tokens * input * output * c.layerCount) }
        // The reference is OpenBLAS threading itself over all cores, as a plain cblas_sgemm caller gets
        // it; QuantGate otherwise pins it to one thread per call (see BLAS).
        openblas_set_num_threads(Int32(ProcessInfo.processInfo.activeProcessorCount))
        defer { openblas_set_num_threads(1) }
        let gemm = try BenchmarkTiming.best(repeats) {
            for _ in 0..<c.layerCount {
                for (input, output) in shapes { sgemm(tokens, input, output, x, w, &y) }
            }
            sgemm(tokens, c.hiddenSize, c.vocabSize, x, w, &y)
        }
        let flops = model.prefillFLOPs(tokens: tokens)
        return Result(tokens: tokens, prefillTokensPerSecond: Double(tokens) / forward,
                      prefillGFLOPs: flops / forward / 1e9, sgemmGFLOPs: gemmFLOPs / gemm / 1e9,
                      ratioToSGEMM: (flops / forward) / (gemmFLOPs / gemm),
                      blasCore: OpenBLASKernels.coreName)
    }

    private static func sgemm(_ t: Int, _ input: Int, _ output: Int, _ x: [Float], _ w: [Float], _ y: inout [Float]) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(t), Int32(output), Int32(input), 1,
                    x, Int32(input), w, Int32(input), 0, &y, Int32(output))
    }
}


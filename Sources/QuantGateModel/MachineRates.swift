import Foundation
import QuantGateTensors

/// The speeds of this machine that run estimates (`--dry-run`) rest on, measured in well under a second plus
/// one block's conversion: f32 GEMM at the model's width, the f64 factorization GPTQ runs, and how long the
/// source takes to convert per parameter.
public struct MachineRates: Sendable, Codable, Equatable {
    /// f32 GEMM GFLOP/s (``BLAS/gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` of 512 rows by
    /// the hidden width, on all cores).
    public var gemmGFLOPS: Double
    /// f64 Cholesky factorization plus triangular inverse GFLOP/s (`n³/3` each) at n = 1024, one core.
    public var factorGFLOPS: Double
    /// Seconds to read and convert one parameter from the source (block 0 timed).
    public var secondsPerParameter: Double
    /// The process's resident memory when measured (tokenizer, runtime, mapped headers): every stage's floor.
    public var baseResidentBytes: Int

    public init(gemmGFLOPS: Double, factorGFLOPS: Double, secondsPerParameter: Double, baseResidentBytes: Int) {
        (self.gemmGFLOPS, self.factorGFLOPS) = (gemmGFLOPS, factorGFLOPS)
        (self.secondsPerParameter, self.baseResidentBytes) = (secondsPerParameter, baseResidentBytes)
    }

    /// Measures the rates for the model of `configuration` over `source`.
    /// - Throws: the source's errors (block 0 is read).
    public static func measure(configuration c: LlamaConfiguration, source: any WeightSource) throws -> MachineRates {
        let base = RunFacts.residentBytes() ?? 0
        let loadSeconds = try BenchmarkTiming.best(1) { _ = try LlamaBlockWeights(layer: 0, configuration: c, source: source) }
        return MachineRates(gemmGFLOPS: measureGEMM(width: c.hiddenSize), factorGFLOPS: measureFactorization(n: 1024),
                            secondsPerParameter: loadSeconds / Double(max(1, LlamaModel.blockParameterCount(c))),
                            baseResidentBytes: base)
    }

    /// Seconds for `flops` of f32 GEMM.
    public func gemmSeconds(_ flops: Double) -> Double { flops / (gemmGFLOPS * 1e9) }

    /// Seconds to read and convert `parameters` weights from the source.
    public func conversionSeconds(_ parameters: Int) -> Double { Double(parameters) * secondsPerParameter }

    static func measureGEMM(width: Int) -> Double {
        let rows = 512
        let a = BenchmarkTiming.weights(count: rows * width, seed: 1), b = BenchmarkTiming.weights(count: width * width, seed: 2)
        var c = [Float](repeating: 0, count: rows * width)
        let seconds = BenchmarkTiming.best(2) {
            BLAS.gemm(transposeB: true, m: rows, n: width, k: width, a: a, lda: width, b: b, ldb: width, c: &c, ldc: width)
        }
        return 2 * Double(rows * width) * Double(width) / max(seconds, 1e-9) / 1e9
    }

    static func measureFactorization(n: Int) -> Double {
        // A diagonally dominant symmetric matrix: positive definite.
        let noise = BenchmarkTiming.weights(count: n * n, seed: 3)
        var spd = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i { spd[i * n + j] = Double(noise[i * n + j] + noise[j * n + i]); spd[j * n + i] = spd[i * n + j] }
            spd[i * n + i] = Double(n)
        }
        let seconds = BenchmarkTiming.best(2) {
            var a = spd
            _ = BLAS.choleskyLower(&a, n: n)
            _ = BLAS.invertUpperTriangular(&a, n: n)
        }
        return 2 * pow(Double(n), 3) / 3 / max(seconds, 1e-9) / 1e9
    }
}

import ArgumentParser
import Foundation
import QuantGateModel
import QuantGateQuantize

/// `quantgate bench gptq`.
struct GPTQBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gptq",
        abstract: "GPTQ time per Linear of a model, the share in LAPACK and in BLAS, next to round-to-nearest on the same grid.",
        discussion: """
            Block --layer's seven Linears, each with the Hessian of its real input over --tokens seeded random tokens; \
            4-bit, group 128, static act-order (the a100 defaults); best of 3. "LAPACK" is the factorization of the Hessian \
            (dpotrf + dtrtri in f64) as a share of the wall time; "BLAS of sweep" is the share of the column sweep's \
            core time in the trailing GEMM updates (the rest is the C column kernel).
            """)

    @OptionGroup var bench: BlockBenchOptions

    func run() throws {
        let network = try bench.network()
        let rows = try GPTQBenchmark.run(model: network, layer: bench.layer, tokens: bench.tokens)
        if bench.json {
            struct Report: Encodable { var rows: [GPTQBenchmark.Row] }
            return try JSONOutput.print(Report(rows: rows))
        }
        print("module                              shape          GPTQ ms   RTN ms   × RTN   LAPACK   BLAS of sweep")
        for row in rows {
            print(row.module.padding(toLength: 36, withPad: " ", startingAt: 0) + "\(row.shape)".padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(format: "%7.2f  %7.2f  %6.1f   %5.1f %%   %5.1f %%", 1000 * row.seconds, 1000 * row.roundToNearestSeconds,
                         row.seconds / max(row.roundToNearestSeconds, 1e-12), 100 * row.lapackShare, 100 * row.blasShareOfSweep))
        }
        let total = rows.reduce(0) { $0 + $1.seconds }
        print(String(format: "block %d: %.1f ms for %d Linears; LAPACK %.1f %% of it", bench.layer, 1000 * total, rows.count,
                     100 * rows.reduce(0) { $0 + $1.lapackShare * $1.seconds } / max(total, 1e-12)))
    }
}

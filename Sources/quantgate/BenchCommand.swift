import ArgumentParser
import Foundation
import QuantGateTensors

/// `quantgate bench`: speed figures as ratios measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernel throughput as ratios to memcpy and to the scalar reference, in one run.",
        discussion: """
            Suites: numerics (f16, bf16, FP8 E4M3/E5M2 ⇄ f32 conversions). Single-threaded; each figure is the \
            best of several repeats. Ratios, not raw times, are what to compare across machines.
            """)

    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case numerics
    }

    @Argument(help: "The suite to run: \(Suite.allCases.map(\.rawValue).joined(separator: ", ")).")
    var suite: Suite = .numerics

    @Option(help: "Elements per conversion (each repeat converts this many).")
    var elements: Int = 1 << 22

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard elements > 0 && elements <= 1 << 28 else { throw ValidationError("--elements must be in 1...268435456") }
    }

    func run() throws {
        let rows = ConversionBenchmark.run(elements: elements)
        if json {
            struct Report: Encodable {
                var suite: String
                var variant: String
                var elements: Int
                var rows: [ConversionBenchmark.Row]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Report(suite: suite.rawValue, variant: ConversionBenchmark.variant, elements: elements, rows: rows))
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("numerics: \(elements) elements, kernel variant \(ConversionBenchmark.variant), single thread")
        print("conversion        source GB/s   × memcpy   × scalar reference")
        for row in rows {
            print(row.conversion.padding(toLength: 18, withPad: " ", startingAt: 0)
                + String(format: "%11.2f   %8.2f   %8.2f", row.bytesPerSecond / 1e9, row.ratioToMemcpy, row.speedupOverReference))
        }
    }
}

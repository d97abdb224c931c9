import Foundation
import QuantGateModel
import QuantGateTensors

/// AWQ speed on a model's own block: per scaling group the α search's wall time, the share of it in the C
/// fake-quantization kernel (the rest is the inspected module's forward passes, BLAS and attention), and the
/// search's cost in full-precision module forwards; per Linear the clip search and round to nearest on the
/// same grid; and the fake-quantization kernel's rate next to `memcpy` of the same bytes, all in one run.
public enum AWQBenchmark {
    public struct GroupRow: Encodable, Sendable {
        /// `model.layers.N.q_proj,k_proj,v_proj`.
        public var group: String
        /// Best-of-repeats wall seconds of the α search (nil: the group is not scaled in this model).
        public var searchSeconds: Double?
        /// Share of the search in fake-quantizing the candidates.
        public var fakeQuantizeShare: Double?
        /// The search's wall time over one full-precision forward of the inspected module.
        public var forwardsPerSearch: Double?
    }

    public struct LinearRow: Encodable, Sendable {
        public var module: String
        /// `[out, in]`.
        public var shape: [Int]
        /// Best-of-repeats wall seconds of the clip search (nil for q and k, which AWQ does not clip) and of
        /// round to nearest.
        public var clipSeconds: Double?, roundToNearestSeconds: Double
    }

    public struct Result: Encodable, Sendable {
        public var groups: [GroupRow]
        public var linears: [LinearRow]
        /// Fake-quantization (`Q(W · s) / s`) and `memcpy` of the same f32 bytes, MB/s.
        public var fakeQuantizeMBps: Double, memcpyMBps: Double
    }

    /// Times block `layer` on `tokens` seeded random tokens (one window).
    public static func run(model: LlamaModel, layer: Int = 0, tokens: Int = 512, repeats: Int = 3,
                           settings: AWQSettings = AWQSettings()) throws -> Result {
        let c = model.configuration
        var (run, fp) = try model.benchmarkRun(layer: layer, tokens: tokens, seed: 0xA3)
        var groups: [GroupRow] = [], linears: [LinearRow] = []
        let g = settings.groupSize
        for group in AWQScalingGroup.llama {
            model.advance(&run, weights: fp)
            let x = run.input!
            let columns = group.point.width(c)
            let name = "model.layers.\(layer)." + group.linears.map { $0.stem.split(separator: ".").last.map(String.init) ?? $0.stem }.joined(separator: ",")
            var row = GroupRow(group: name)
            if group.applies(to: c) {
                let weights = group.linears.map { fp[keyPath: $0.weight] }
                let reference = group.inspected.output(model, fp, x)
                let forward = BenchmarkTiming.best(repeats) { _ = group.inspected.output(model, fp, x) }
                let search = try BenchmarkTiming.best(repeats) {
                    _ = try AWQScaleSearch.search(inputs: [x], weights: weights, columns: columns, settings: settings, reference: [reference],
                                                  module: name) { _, replaced in
                        var candidate = fp
                        for (linear, weight) in zip(group.linears, replaced) { candidate[keyPath: linear.weight] = weight }
                        return group.inspected.output(model, candidate, x)
                    }
                }
                let scale = [Float](repeating: 1.5, count: columns)
                let fakeQuantize = BenchmarkTiming.best(repeats) {
                    for _ in 0..<settings.grid {
                        for w in weights { _ = AWQGrid.fakeQuantized(w, rows: w.count / columns, columns: columns, groupSize: g, columnScale: scale) }
                    }
                }
                (row.searchSeconds, row.fakeQuantizeShare, row.forwardsPerSearch) = (search, fakeQuantize / search, search / forward)
            }
            groups.append(row)
            let sample = AWQBlockQuantizer.clipSample([x], dividedBy: nil, tokens: settings.clipTokens)
            for linear in group.linears {
                let w = fp[keyPath: linear.weight]
                let rows = w.count / columns
                let clip: Double? = AWQScalingGroup.clips(linear.stem) ? BenchmarkTiming.best(repeats) {
                    _ = AWQGrid.clipBounds(w, rows: rows, columns: columns, groupSize: g, sample: sample, steps: settings.clipSteps, grid: settings.clipGrid)
                } : nil
                let rtn = BenchmarkTiming.best(repeats) { _ = AWQGrid.quantize(w, rows: rows, columns: columns, groupSize: g) }
                linears.append(LinearRow(module: "model.layers.\(layer).\(linear.stem)", shape: [rows, columns], clipSeconds: clip, roundToNearestSeconds: rtn))
            }
        }
        // The kernel's rate on the block's largest Linear, next to memcpy of the same bytes.
        let w = fp.down
        let columns = c.intermediateSize
        let scale = [Float](repeating: 1.5, count: columns)
        var copy = [Float](repeating: 0, count: w.count)
        let fakeQuantize = BenchmarkTiming.best(repeats) {
            _ = AWQGrid.fakeQuantized(w, rows: w.count / columns, columns: columns, groupSize: g, columnScale: scale)
        }
        let memcpy = BenchmarkTiming.best(repeats) { copy.withUnsafeMutableBytes { d in w.withUnsafeBytes { s in d.copyMemory(from: s) } } }
        let bytes = Double(w.count * 4)
        return Result(groups: groups, linears: linears, fakeQuantizeMBps: bytes / fakeQuantize / 1e6, memcpyMBps: bytes / memcpy / 1e6)
    }
}

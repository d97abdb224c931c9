import Foundation
import QuantGateFormats
import QuantGateQuantize
import QuantGateSafetensors
import QuantGateTensors
import QuantGateTestSupport
import Testing

/// AWQ's grid, packing, clip search and scale search pinned by AutoAWQ's own code. The fixture
/// (`Tests/Fixtures/golden/awq_reference.safetensors`, made by `Tools/make_golden_awq.py` with AutoAWQ 0.2.9's
/// `AwqQuantizer` and `WQLinear_GEMM` on CPU in f32, torch 2.15) holds:
/// - `pack.g128` / `pack.g64`: weights with awkward groups (constant, all positive, all negative, tiny range,
///   exact half steps, outliers), `pseudo_quantize_tensor`'s fake-quantized weights, `from_linear`'s
///   `qweight`/`qzeros`/`scales` and `dequantize_gemm`'s weights;
/// - `clip`: a Linear, its inputs and `_compute_best_clip`'s bounds;
/// - `scale` (two Linears sharing an input, inspected together) and `scale1` (one Linear): the inputs, x_mean,
///   w_mean, `_search_best_scale`'s best scales, its ratio and the 20 losses (metadata).
@Suite("AWQ against AutoAWQ")
struct AWQGoldenTests {
    static let file: SafetensorsFile = try! SafetensorsFile(path: Fixtures.golden("awq_reference.safetensors").path)

    static func floats(_ name: String) -> [Float] { try! file.floats(named: name) }
    static func shape(_ name: String) -> [Int] { file.tensor(named: name)!.shape }
    static func int32(_ name: String) -> [Int32] {
        let tensor = file.tensor(named: name)!
        return file.withBytes(of: tensor) { bytes in (0..<(bytes.count / 4)).map { bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self) } }
    }

    @Test("grid and packing: fake quantization, codes packed into qweight/qzeros, f16 scales and dequantization equal AutoAWQ's",
          arguments: [("pack.g128", 128), ("pack.g64", 64)])
    func packing(name: String, groupSize: Int) {
        let (rows, columns) = (Self.shape(name + ".weight")[0], Self.shape(name + ".weight")[1])
        let w = Self.floats(name + ".weight")
        #expect(AWQGrid.fakeQuantized(w, rows: rows, columns: columns, groupSize: groupSize).map(\.bitPattern)
                == Self.floats(name + ".fake").map(\.bitPattern))
        let linear = AWQGrid.quantize(w, rows: rows, columns: columns, groupSize: groupSize)
        #expect(AWQPacking.packWeight(codes: linear.codes, rows: rows, columns: columns) == Self.int32(name + ".qweight"))
        #expect(AWQPacking.packZeros(linear.zeros, groups: linear.groups, rows: rows) == Self.int32(name + ".qzeros"))
        #expect(linear.scales == Self.floats(name + ".scales"))
        // Our reader on AutoAWQ's words gives its dequantized weights exactly (f32 products of f16 scales).
        let read = GroupQuantizedLinear(
            rows: rows, columns: columns, codes: AWQPacking.unpackWeight(Self.int32(name + ".qweight"), rows: rows, columns: columns),
            scales: Self.floats(name + ".scales"), zeros: AWQPacking.unpackZeros(Self.int32(name + ".qzeros"), groups: columns / groupSize, rows: rows),
            groupIndex: (0..<columns).map { Int32($0 / groupSize) })
        #expect(read.dequantized().map(\.bitPattern) == Self.floats(name + ".dequantized").map(\.bitPattern))
        #expect(read.codes == linear.codes && read.zeros == linear.zeros)
    }

    @Test("clip search: the bound of every (row, group) equals AutoAWQ's _compute_best_clip")
    func clip() {
        let (rows, columns) = (Self.shape("clip.weight")[0], Self.shape("clip.weight")[1])
        let input = Matrix(rows: Self.shape("clip.input")[0], columns: columns, values: Self.floats("clip.input"))
        // AutoAWQ keeps every (tokens / 512)-th token: 1100 tokens, step 2.
        let sample = AWQBlockQuantizer.clipSample([input], dividedBy: nil, tokens: 512)
        #expect(sample.rows == 550)
        let bounds = AWQGrid.clipBounds(Self.floats("clip.weight"), rows: rows, columns: columns, groupSize: 128, sample: sample, steps: 10, grid: 20)
        let expected = Self.floats("clip.max_val")
        let equal = zip(bounds, expected).filter { $0 == $1 }.count
        // Ours sums the quadratic form dᵀ(XᵀX/n)d, AutoAWQ the tokens' squared partial outputs: the same error in
        // exact arithmetic, so only a near-tie between two shrink factors could choose differently.
        #expect(equal >= expected.count - 1, "\(equal) of \(expected.count) bounds equal")
        #expect(bounds.contains { $0 < Self.floats("clip.weight").map(abs).max()! }, "the case clips something")
    }

    @Test("scale search: x_mean, w_mean, the 20 losses and the chosen scales match AutoAWQ's _search_best_scale",
          arguments: [("scale", ["scale.weight_a", "scale.weight_b"]), ("scale1", ["scale1.weight"])])
    func scales(name: String, weightNames: [String]) throws {
        let columns = 256
        let input = Matrix(rows: Self.shape(name + ".input")[0], columns: columns, values: Self.floats(name + ".input"))
        let weights = weightNames.map(Self.floats)
        expectClose(AWQScaleSearch.meanAbsolute([input]), Self.floats(name + ".x_mean"), relative: 1e-5)
        expectClose(AWQScaleSearch.normalizedWeightMean(weights, columns: columns, groupSize: 128), Self.floats(name + ".w_mean"), relative: 1e-5)
        // The inspected module: the Linears' outputs side by side.
        func output(_ w: [[Float]]) -> Matrix {
            let parts = w.map { linear in Self.product(input, linear, outputs: linear.count / columns) }
            var values: [Float] = []
            for r in 0..<input.rows { for p in parts { values += p.row(r) } }
            return Matrix(rows: input.rows, columns: values.count / input.rows, values: values)
        }
        let choice = try AWQScaleSearch.search(inputs: [input], weights: weights, columns: columns, settings: AWQSettings(),
                                               reference: [output(weights)], module: name) { _, replaced in output(replaced) }
        let meta = Self.file.metadata
        #expect(choice.ratio == Double(meta[name + ".best_ratio"]!)!)
        let losses = try JSONDecoder().decode([Double].self, from: Data(meta[name + ".losses"]!.utf8))
        for (ours, theirs) in zip(choice.losses, losses) { #expect(abs(ours - theirs) <= 1e-3 * theirs, "loss \(ours) vs AutoAWQ \(theirs)") }
        expectClose(choice.scales, Self.floats(name + ".best"), relative: 1e-4)
    }

    static func product(_ x: Matrix, _ w: [Float], outputs: Int) -> Matrix {
        var y = Matrix(rows: x.rows, columns: outputs)
        x.values.withUnsafeBufferPointer { a in
            w.withUnsafeBufferPointer { b in
                y.values.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transposeB: true, m: x.rows, n: outputs, k: x.columns, a: a.baseAddress!, lda: x.columns,
                              b: b.baseAddress!, ldb: x.columns, c: c.baseAddress!, ldc: outputs)
                }
            }
        }
        return y
    }

    func expectClose(_ a: [Float], _ b: [Float], relative: Float, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        let worst = zip(a, b).map { abs($0 - $1) / max(abs($1), 1e-12) }.max() ?? 0
        #expect(worst <= relative, "largest relative difference \(worst)", sourceLocation: sourceLocation)
    }
}

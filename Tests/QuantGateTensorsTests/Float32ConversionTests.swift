import QuantGateTensors
import QuantGateTestSupport
import Testing

/// The Swift conversion layer over the kernels: every dtype, unaligned sources, and encode ∘ decode.
@Suite("Float32Conversion")
struct Float32ConversionTests {
    @Test("f16 and bf16 decode the same from aligned and unaligned bytes", arguments: [DType.float16, .bfloat16])
    func unalignedHalves(dtype: DType) {
        var rng = SplitMix64(seed: 3)
        let values = (0..<37).map { _ in Float(Int(rng.next() % 257) - 128) / 8 }  // 8 significant bits: exact in both
        let encoded = Float32Conversion.encode(values, as: dtype)
        let aligned = encoded.withUnsafeBytes { Float32Conversion.decode($0, as: dtype) }
        let shifted = [0x55] + encoded
        let unaligned = shifted.withUnsafeBytes { raw in
            Float32Conversion.decode(UnsafeRawBufferPointer(rebasing: raw[1...]), as: dtype)
        }
        #expect(aligned == values, "these values are exact in \(dtype)")
        #expect(unaligned == aligned)
    }

    @Test("integer and boolean dtypes convert to their values")
    func integers() {
        let int64: [Int64] = [-9_007_199_254_740_993, -1, 0, 1 << 40]
        #expect(int64.withUnsafeBytes { Float32Conversion.decode($0, as: .int64) } == int64.map { Float($0) })
        let int8: [Int8] = [-128, -1, 0, 127]
        #expect(int8.withUnsafeBytes { Float32Conversion.decode($0, as: .int8) } == [-128, -1, 0, 127])
        let uint16: [UInt16] = [0, 1, 65535]
        #expect(uint16.withUnsafeBytes { Float32Conversion.decode($0, as: .uint16) } == [0, 1, 65535])
        let bools: [UInt8] = [0, 1, 2, 0]
        #expect(bools.withUnsafeBytes { Float32Conversion.decode($0, as: .bool) } == [0, 1, 1, 0])
        let doubles: [Double] = [0.1, -2.5, 1e40]
        #expect(doubles.withUnsafeBytes { Float32Conversion.decode($0, as: .float64) } == [Float(0.1), -2.5, .infinity])
    }

    @Test("re-encoding decoded values is the identity for every float dtype", arguments: DType.allCases.filter(\.isFloatingPoint))
    func encodeDecodeFixedPoint(dtype: DType) {
        var rng = SplitMix64(seed: 9)
        let values = (0..<257).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xBFFF_FFFF) }
        let once = Float32Conversion.encode(values, as: dtype)
        let decoded = once.withUnsafeBytes { Float32Conversion.decode($0, as: dtype) }
        let twice = Float32Conversion.encode(decoded, as: dtype)
        #expect(twice == once)
    }

    @Test("a matrix row is its slice of the values")
    func matrixRow() {
        let m = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        #expect(m.row(1) == [4, 5, 6])
        #expect(Matrix(rows: 2, columns: 2).values == [0, 0, 0, 0])
    }
}

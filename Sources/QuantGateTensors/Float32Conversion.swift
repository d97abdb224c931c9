import CKernels

/// Converts stored tensor bytes to and from `Float` (f32), through the SIMD kernels in `CKernels`.
///
/// Rounding contract (see `qg_numerics.h`): decoding is exact; encoding rounds to nearest, ties to
/// even, keeps subnormals; FP8 encodes saturate (E4M3FN to ±448, E5M2 to ±57344) and never turn a
/// finite input into NaN. Data are little-endian, as every supported host is.
public enum Float32Conversion {
    /// Decodes `destination.count` elements of `dtype` from `source` into `destination`.
    ///
    /// `source` may be unaligned (safetensors gives no alignment guarantee); integers and `BOOL`
    /// convert to their exact value where f32 can hold it, else to the nearest f32.
    /// - Precondition: `source.count == destination.count * dtype.byteSize`.
    public static func decode(
        _ source: UnsafeRawBufferPointer, as dtype: DType, into destination: UnsafeMutableBufferPointer<Float>
    ) {
        let count = destination.count
        precondition(source.count == count * dtype.byteSize, "byte count does not match element count")
        guard count > 0, let out = destination.baseAddress, let raw = source.baseAddress else { return }
        let n = Int64(count)
        switch dtype {
        case .float32:
            UnsafeMutableRawPointer(out).copyMemory(from: raw, byteCount: source.count)
        case .float16, .bfloat16:
            withAligned(source, as: UInt16.self) { halves in
                if dtype == .float16 { qg_f16_to_f32(halves, out, n) } else { qg_bf16_to_f32(halves, out, n) }
            }
        case .float8E4M3:
            qg_fp8_e4m3_to_f32(raw.assumingMemoryBound(to: UInt8.self), out, n)
        case .float8E5M2:
            qg_fp8_e5m2_to_f32(raw.assumingMemoryBound(to: UInt8.self), out, n)
        case .float64: convertEach(source, Double.self, into: destination) { Float($0) }
        case .int64: convertEach(source, Int64.self, into: destination) { Float($0) }
        case .int32: convertEach(source, Int32.self, into: destination) { Float($0) }
        case .int16: convertEach(source, Int16.self, into: destination) { Float($0) }
        case .int8: convertEach(source, Int8.self, into: destination) { Float($0) }
        case .uint64: convertEach(source, UInt64.self, into: destination) { Float($0) }
        case .uint32: convertEach(source, UInt32.self, into: destination) { Float($0) }
        case .uint16: convertEach(source, UInt16.self, into: destination) { Float($0) }
        case .uint8: convertEach(source, UInt8.self, into: destination) { Float($0) }
        case .bool: convertEach(source, UInt8.self, into: destination) { $0 == 0 ? 0 : 1 }
        }
    }

    /// Decodes a whole buffer of `dtype` elements into a new `[Float]`.
    public static func decode(_ source: UnsafeRawBufferPointer, as dtype: DType) -> [Float] {
        let count = source.count / dtype.byteSize
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            decode(UnsafeRawBufferPointer(rebasing: source[0..<count * dtype.byteSize]), as: dtype, into: buffer)
            initialized = count
        }
    }

    /// Encodes `values` as `dtype` into `destination` (little-endian).
    ///
    /// - Precondition: `dtype.isFloatingPoint` and `destination.count == values.count * dtype.byteSize`.
    public static func encode(
        _ values: UnsafeBufferPointer<Float>, as dtype: DType, into destination: UnsafeMutableRawBufferPointer
    ) {
        precondition(dtype.isFloatingPoint, "encode supports floating-point dtypes only")
        precondition(destination.count == values.count * dtype.byteSize, "byte count does not match element count")
        guard let src = values.baseAddress, let out = destination.baseAddress else { return }
        let n = Int64(values.count)
        switch dtype {
        case .float32:
            out.copyMemory(from: src, byteCount: destination.count)
        case .float64:
            for (i, value) in values.enumerated() {
                out.storeBytes(of: Double(value), toByteOffset: i * 8, as: Double.self)
            }
        case .float16:
            qg_f32_to_f16(src, out.bindMemory(to: UInt16.self, capacity: values.count), n)
        case .bfloat16:
            qg_f32_to_bf16(src, out.bindMemory(to: UInt16.self, capacity: values.count), n)
        case .float8E4M3:
            qg_f32_to_fp8_e4m3(src, out.bindMemory(to: UInt8.self, capacity: values.count), n)
        case .float8E5M2:
            qg_f32_to_fp8_e5m2(src, out.bindMemory(to: UInt8.self, capacity: values.count), n)
        default:
            preconditionFailure("unreachable: \(dtype) is not floating point")
        }
    }

    /// Encodes `values` as `dtype` into new bytes.
    public static func encode(_ values: [Float], as dtype: DType) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count * dtype.byteSize) { bytes, initialized in
            values.withUnsafeBufferPointer { encode($0, as: dtype, into: UnsafeMutableRawBufferPointer(bytes)) }
            initialized = values.count * dtype.byteSize
        }
    }

    /// Runs `body` on `source` viewed as `T`, copying first when `source` is not aligned for `T`.
    private static func withAligned<T>(
        _ source: UnsafeRawBufferPointer, as type: T.Type, _ body: (UnsafePointer<T>) -> Void
    ) {
        guard let base = source.baseAddress else { return }
        if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
            body(base.assumingMemoryBound(to: T.self))
            return
        }
        let aligned = UnsafeMutableRawBufferPointer.allocate(
            byteCount: source.count, alignment: MemoryLayout<T>.alignment)
        defer { aligned.deallocate() }
        aligned.copyMemory(from: source)
        body(UnsafePointer(aligned.baseAddress!.assumingMemoryBound(to: T.self)))
    }

    /// Element-wise conversion for the scalar dtypes, reading each element unaligned.
    private static func convertEach<T>(
        _ source: UnsafeRawBufferPointer, _ type: T.Type, into destination: UnsafeMutableBufferPointer<Float>,
        _ convert: (T) -> Float
    ) {
        let stride = MemoryLayout<T>.size
        for i in 0..<destination.count {
            destination[i] = convert(source.loadUnaligned(fromByteOffset: i * stride, as: T.self))
        }
    }
}

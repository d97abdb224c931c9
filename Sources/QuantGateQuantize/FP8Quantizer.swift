import CKernels
import Dispatch
import QuantGateFormats
import QuantGateTensors

/// FP8 E4M3 quantization of one weight matrix and of activation maxima, as compressed-tensors (and so
/// llm-compressor) computes it: `scale = amax / 448` rounded to the model's dtype, the one stored;
/// `code = e4m3(clamp(round_dtype(w / scale), ±448))`, the quotient evaluated in the model's dtype and
/// every rounding to nearest even. The artefact's codes and scales are byte-identical to
/// llm-compressor's for the same scheme (Tools/interop_fp8.py checks it); `code · scale` is exactly what
/// a runtime multiplies.
public enum FP8Quantizer {
    /// The stored scale for a maximum magnitude `amax`.
    ///
    /// A scale that comes out zero (an all-zero row, a Linear whose input never fired, an `amax` below
    /// the dtype's range) is replaced by the machine epsilon of `storage`, as compressed-tensors does, so
    /// nothing divides by zero and the row's small values keep their codes.
    /// - Returns: nil when the scale overflows `storage` (`amax` beyond 448 × its largest finite value).
    public static func scale(amax: Float, storage: DType) -> Float? {
        let stored = round(amax / FP8Scheme.maximum, to: storage)
        guard stored.isFinite else { return nil }
        return stored > 0 ? stored : epsilon(storage)
    }

    /// `value` rounded to the float dtype `storage` (f32, f16 or bf16) and back.
    public static func round(_ value: Float, to storage: DType) -> Float {
        Float32Conversion.encode([value], as: storage).withUnsafeBytes { Float32Conversion.decode($0, as: storage)[0] }
    }

    /// `torch.finfo(dtype).eps`: 2⁻⁷ for bf16, 2⁻¹⁰ for f16, 2⁻²³ for f32.
    static func epsilon(_ storage: DType) -> Float {
        switch storage {
        case .float16: 0x1p-10
        case .bfloat16: 0x1p-7
        default: Float.ulpOfOne
        }
    }

    /// The largest |value| of `values`.
    /// - Throws: ``FP8QuantizationError/nonFinite(tensor:index:value:)`` naming `tensor` and the first bad element.
    public static func absoluteMaximum(_ values: UnsafeBufferPointer<Float>, tensor: String, offset: Int = 0) throws(FP8QuantizationError) -> Float {
        var bad: Int64 = -1
        let amax = qg_absmax_f32(values.baseAddress, Int64(values.count), &bad)
        if bad >= 0 { throw .nonFinite(tensor: tensor, index: offset + Int(bad), value: values[Int(bad)]) }
        return amax
    }

    /// The scales of a `[rows, columns]` weight: one per row (channel) or one for the matrix (tensor).
    public static func weightScales(_ values: [Float], rows: Int, columns: Int, strategy: FP8Scheme.WeightScales,
                                    storage: DType, tensor: String) throws(FP8QuantizationError) -> [Float] {
        precondition(values.count == rows * columns, "values do not fill [rows, columns]")
        var maxima: [Float] = []
        try values.withUnsafeBufferPointer { (v) throws(FP8QuantizationError) in
            for row in 0..<rows {
                let slice = UnsafeBufferPointer(rebasing: v[(row * columns)..<((row + 1) * columns)])
                maxima.append(try absoluteMaximum(slice, tensor: tensor, offset: row * columns))
            }
        }
        let perScale = strategy == .channel ? maxima : [maxima.max() ?? 0]
        return try perScale.map { (amax) throws(FP8QuantizationError) -> Float in
            guard let scale = scale(amax: amax, storage: storage) else { throw .scaleOverflow(tensor: tensor, amax: amax, storage: storage) }
            return scale
        }
    }

    /// The E4M3 codes of a `[rows, columns]` weight stored as `dtype` under `scales` (one per row, or one).
    public static func encode(_ values: [Float], rows: Int, columns: Int, scales: [Float], dtype: DType) -> [UInt8] {
        precondition(scales.count == rows || scales.count == 1, "one scale per row, or one")
        let quotient: Int32 = switch dtype {
        case .bfloat16: Int32(QG_QUOTIENT_BF16)
        case .float16: Int32(QG_QUOTIENT_F16)
        default: Int32(QG_QUOTIENT_F32)
        }
        // Rows are independent: encode them in parallel chunks (the bytes do not depend on the thread count).
        return [UInt8](unsafeUninitializedCapacity: rows * columns) { codes, initialized in
            values.withUnsafeBufferPointer { v in
                let source = UnsafeSendable(v.baseAddress!), destination = UnsafeSendable(codes.baseAddress!)
                let chunk = max(1, (1 << 16) / max(1, columns))
                DispatchQueue.concurrentPerform(iterations: (rows + chunk - 1) / chunk) { index in
                    for row in (index * chunk)..<min(rows, (index + 1) * chunk) {
                        qg_fp8_e4m3_quantize(source.pointer + row * columns, scales.count == 1 ? scales[0] : scales[row], quotient,
                                             destination.pointer + row * columns, Int64(columns))
                    }
                }
            }
            initialized = rows * columns
        }
    }
}

/// Why a tensor cannot be quantized to FP8.
public enum FP8QuantizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tensor holds a NaN or an infinity (the source checkpoint is damaged).
    case nonFinite(tensor: String, index: Int, value: Float)
    /// The scale `amax / 448` does not fit the scale dtype.
    case scaleOverflow(tensor: String, amax: Float, storage: DType)
    /// The ignore list splits a group of Linears the runtime fuses into one (q/k/v, gate/up).
    case splitFusedGroup(quantized: [String], ignored: [String])
    /// The calibration statistics lack a Linear's input (static activation scales need it).
    case missingActivationStatistics(module: String)
    /// A Linear's input maximum is not finite or gives a scale beyond the scale dtype.
    case inputScaleOverflow(module: String, amax: Float, storage: DType)
    /// An `--ignore` pattern that matches no Linear (a typo would otherwise go unnoticed).
    case unmatchedIgnore(pattern: String)

    public var description: String {
        switch self {
        case .nonFinite(let tensor, let index, let value):
            "tensor \(tensor): element \(index) is \(value); the checkpoint holds a non-finite weight, refusing to quantize"
        case .scaleOverflow(let tensor, let amax, let storage):
            "tensor \(tensor): max |w| = \(amax) gives a scale beyond the range of \(storage.rawValue)"
        case .splitFusedGroup(let quantized, let ignored):
            "--ignore splits a group vLLM fuses into one layer: \(ignored.joined(separator: ", ")) ignored but \(quantized.joined(separator: ", ")) quantized; ignore all of them or none"
        case .inputScaleOverflow(let module, let amax, let storage):
            "\(module): max |x| = \(amax) over the calibration data gives no finite \(storage.rawValue) input scale"
        case .unmatchedIgnore(let pattern):
            "--ignore \(pattern) matches no Linear of the checkpoint (module names look like model.layers.0.mlp.down_proj)"
        case .missingActivationStatistics(let module):
            "no calibration statistics for the input of \(module); static activation scales need them (or use --activations dynamic)"
        }
    }
}

import CKernels
import QuantGateTensors

/// How a runtime rounds a Linear's input before the product, so that an artefact is judged as its
/// runtime computes it. llama.cpp's CPU backend, for example, converts the activations of every
/// matrix product to its weight type's "vec_dot" type: f16 for F16 weights, 8-bit blocks (`Q8_0`,
/// 32 values, f16 scale) for the legacy quants and Q8_0, 256-value blocks (`Q8_K`, f32 scale) for the
/// k-quants. The product of those rounded inputs with the dequantized weights is what it computes,
/// up to summation order.
public enum InputQuantization: Sendable, Hashable {
    case f16
    case bf16
    /// ggml's `quantize_row_q8_0` (AVX2): d = amax / 127 stored as f16, q = round-half-even(x · 127 / amax).
    case q8_0
    /// ggml's `quantize_row_q8_K`: d = −max / 127 (max: the value of largest magnitude), q = min(127, round(x / d)).
    case q8K
    /// An FP8 GEMM's input with a static per-tensor scale (vLLM's `static_scaled_fp8_quant`):
    /// e4m3(clamp(x · (1/scale), ±448)) · scale.
    case fp8E4M3(scale: Float)
    /// An FP8 GEMM's input scaled per token (vLLM's `dynamic_per_token_scaled_fp8_quant`): each row's
    /// scale is max(max|x| / 448, 1/(448·512)), and the row is rounded as e4m3(x / scale) · scale
    /// (this kernel divides, unlike the static one).
    case fp8E4M3PerToken

    /// `x` with every row rounded as the runtime rounds it. Rows whose length is not a multiple of
    /// the block size are returned unchanged (a runtime would not have used this type for them).
    public func apply(_ x: Matrix) -> Matrix {
        var y = x
        switch self {
        case .f16:
            for i in y.values.indices { y.values[i] = Float(Float16(y.values[i])) }
        case .bf16:
            for i in y.values.indices { y.values[i] = Self.bf16(y.values[i]) }
        case .q8_0:
            guard x.columns % 32 == 0 else { return x }
            y.values.withUnsafeMutableBufferPointer { v in
                for start in stride(from: 0, to: v.count, by: 32) { Self.q8_0Block(v.baseAddress! + start) }
            }
        case .q8K:
            guard x.columns % 256 == 0 else { return x }
            y.values.withUnsafeMutableBufferPointer { v in
                for start in stride(from: 0, to: v.count, by: 256) { Self.q8KBlock(v.baseAddress! + start) }
            }
        case .fp8E4M3(let scale):
            y.values.withUnsafeMutableBufferPointer { v in qg_fp8_e4m3_fake_quant(v.baseAddress, 1 / scale, scale, Int64(v.count)) }
        case .fp8E4M3PerToken:
            guard x.columns > 0 else { return x }
            y.values.withUnsafeMutableBufferPointer { v in
                for start in stride(from: 0, to: v.count, by: x.columns) {
                    var nonFinite: Int64 = -1
                    let amax = qg_absmax_f32(v.baseAddress! + start, Int64(x.columns), &nonFinite)
                    let scale = max(amax / 448, 1 / (448 * 512))
                    qg_fp8_e4m3_fake_quant_div(v.baseAddress! + start, scale, Int64(x.columns))
                }
            }
        }
        return y
    }

    private static func q8_0Block(_ x: UnsafeMutablePointer<Float>) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = Float(Float16(amax / 127))
        let inverse: Float = amax != 0 ? 127 / amax : 0
        for j in 0..<32 { x[j] = (x[j] * inverse).rounded(.toNearestOrEven) * d }
    }

    private static func q8KBlock(_ x: UnsafeMutablePointer<Float>) {
        var amax: Float = 0, signedMax: Float = 0
        for j in 0..<256 where abs(x[j]) > amax {
            amax = abs(x[j])
            signedMax = x[j]
        }
        guard amax != 0 else {
            for j in 0..<256 { x[j] = 0 }
            return
        }
        let inverseScale = -127 / signedMax
        let d = 1 / inverseScale
        for j in 0..<256 { x[j] = min(127, (inverseScale * x[j]).rounded(.toNearestOrEven)) * d }
    }

    private static func bf16(_ value: Float) -> Float {
        let bits = value.bitPattern
        if value.isNaN { return Float(bitPattern: (bits | 0x0040_0000) & 0xFFFF_0000) }
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }
}

/// One Linear input as each projection reading it sees it: projections that share the input and its
/// rounding (q/k/v, gate/up) share one rounded copy instead of rounding it again.
struct RoundedInput {
    let x: Matrix
    private var rounded: [InputQuantization: Matrix] = [:]

    init(_ x: Matrix) { self.x = x }

    /// `x` rounded by `rounding` (nil: as it is).
    mutating func callAsFunction(_ rounding: InputQuantization?) -> Matrix {
        guard let rounding else { return x }
        if let done = rounded[rounding] { return done }
        let y = rounding.apply(x)
        rounded[rounding] = y
        return y
    }
}

// FP8 E4M3FN scaled quantization: the kernels behind QuantGate's FP8 (W8A8) target.
//
// Conventions (every variant bit-identical to its `_ref`):
//  - Encoding is qg_f32_to_fp8_e4m3's: clamp to ±448, round to nearest even, subnormals kept;
//    a finite input never becomes NaN.
//  - Weights are quantized by division, `code = e4m3(round_q(w / scale) + 0)`, as compressed-tensors does
//    offline: the quotient is evaluated in the model's dtype (`round_q`: f32, bf16 or f16, rounding to
//    nearest even), and its zero point (0) is added, which turns −0 into +0.
//  - Activations are rounded as vLLM's kernels round them at run time: with a static (or dynamic
//    per-tensor) scale by multiplying with the reciprocal, `e4m3(x · (1/scale)) · scale`; with a
//    per-token scale by dividing, `e4m3(x / scale) · scale` (its comment: to match FBGEMM).
#ifndef QG_FP8_H
#define QG_FP8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// max |x[i]| over n values (0 for n = 0). `first_nonfinite` receives the index of the first NaN or
/// ±Inf, or −1 when every value is finite; the returned maximum is then meaningless.
float qg_absmax_f32(const float *restrict x, int64_t n, int64_t *restrict first_nonfinite);
/// The dtype a weight quotient `w / scale` is rounded to before the E4M3 encoding.
enum { QG_QUOTIENT_F32 = 0, QG_QUOTIENT_BF16 = 1, QG_QUOTIENT_F16 = 2 };

/// codes[i] = e4m3(round_q(x[i] / scale) + 0), `q` one of QG_QUOTIENT_*. `scale` must be positive and finite.
void qg_fp8_e4m3_quantize(const float *restrict x, float scale, int quotient, uint8_t *restrict codes, int64_t n);
/// x[i] = e4m3(x[i] · inverse_scale) · scale, in place: a Linear input as an FP8 GEMM sees it.
void qg_fp8_e4m3_fake_quant(float *restrict x, float inverse_scale, float scale, int64_t n);
/// x[i] = e4m3(x[i] / scale) · scale, in place: a Linear input under a per-token scale.
void qg_fp8_e4m3_fake_quant_div(float *restrict x, float scale, int64_t n);
/// x[i] = decode(codes[i]) · scale: the dequantized weight (exact when scale has ≤ 20 significant bits).
void qg_fp8_e4m3_dequantize(const uint8_t *restrict codes, float scale, float *restrict x, int64_t n);

float qg_absmax_f32_ref(const float *restrict x, int64_t n, int64_t *restrict first_nonfinite);
void qg_fp8_e4m3_quantize_ref(const float *restrict x, float scale, int quotient, uint8_t *restrict codes, int64_t n);
void qg_fp8_e4m3_fake_quant_ref(float *restrict x, float inverse_scale, float scale, int64_t n);
void qg_fp8_e4m3_fake_quant_div_ref(float *restrict x, float scale, int64_t n);
void qg_fp8_e4m3_dequantize_ref(const uint8_t *restrict codes, float scale, float *restrict x, int64_t n);

float qg_absmax_f32_avx2(const float *restrict x, int64_t n, int64_t *restrict first_nonfinite);
void qg_fp8_e4m3_quantize_avx2(const float *restrict x, float scale, int quotient, uint8_t *restrict codes, int64_t n);
void qg_fp8_e4m3_fake_quant_avx2(float *restrict x, float inverse_scale, float scale, int64_t n);
void qg_fp8_e4m3_fake_quant_div_avx2(float *restrict x, float scale, int64_t n);
void qg_fp8_e4m3_dequantize_avx2(const uint8_t *restrict codes, float scale, float *restrict x, int64_t n);

#ifdef __cplusplus
}
#endif

#endif  // QG_FP8_H

// Scalar references for qg_fp8.h: the definition of each scaled FP8 kernel.
#include "qg_fp8.h"

#include "qg_numerics.h"

#include <math.h>

float qg_absmax_f32_ref(const float *restrict x, int64_t n, int64_t *restrict first_nonfinite) {
    float amax = 0.0f;
    *first_nonfinite = -1;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            *first_nonfinite = i;
            return amax;
        }
        float a = fabsf(x[i]);
        if (a > amax) amax = a;
    }
    return amax;
}

/// `q` rounded to the quotient dtype and back.
static float round_quotient(float q, int quotient) {
    uint16_t half;
    switch (quotient) {
    case QG_QUOTIENT_BF16:
        qg_f32_to_bf16_ref(&q, &half, 1);
        qg_bf16_to_f32_ref(&half, &q, 1);
        return q;
    case QG_QUOTIENT_F16:
        qg_f32_to_f16_ref(&q, &half, 1);
        qg_f16_to_f32_ref(&half, &q, 1);
        return q;
    default:
        return q;
    }
}

void qg_fp8_e4m3_quantize_ref(const float *restrict x, float scale, int quotient, uint8_t *restrict codes, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float scaled = round_quotient(x[i] / scale, quotient) + 0.0f;  // the zero point: −0 becomes +0
        qg_f32_to_fp8_e4m3_ref(&scaled, codes + i, 1);
    }
}

void qg_fp8_e4m3_fake_quant_ref(float *restrict x, float inverse_scale, float scale, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float scaled = x[i] * inverse_scale, decoded;
        uint8_t code;
        qg_f32_to_fp8_e4m3_ref(&scaled, &code, 1);
        qg_fp8_e4m3_to_f32_ref(&code, &decoded, 1);
        x[i] = decoded * scale;
    }
}

void qg_fp8_e4m3_fake_quant_div_ref(float *restrict x, float scale, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float scaled = x[i] / scale, decoded;
        uint8_t code;
        qg_f32_to_fp8_e4m3_ref(&scaled, &code, 1);
        qg_fp8_e4m3_to_f32_ref(&code, &decoded, 1);
        x[i] = decoded * scale;
    }
}

void qg_fp8_e4m3_dequantize_ref(const uint8_t *restrict codes, float scale, float *restrict x, int64_t n) {
    qg_fp8_e4m3_to_f32_ref(codes, x, n);
    for (int64_t i = 0; i < n; i++) x[i] *= scale;
}

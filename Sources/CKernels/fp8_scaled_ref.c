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

void qg_fp8_e4m3_quantize_ref(const float *restrict x, float scale, uint8_t *restrict codes, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float scaled = x[i] / scale;
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

void qg_fp8_e4m3_dequantize_ref(const uint8_t *restrict codes, float scale, float *restrict x, int64_t n) {
    qg_fp8_e4m3_to_f32_ref(codes, x, n);
    for (int64_t i = 0; i < n; i++) x[i] *= scale;
}

// Runtime dispatch: probe the CPU once, then route every entry point to one variant.
#include "qg_numerics.h"
#include "qg_fp8.h"

#include <stdlib.h>
#include <string.h>

int qg_cpu_has_avx2_f16c(void) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/// 1 = SIMD, 0 = reference, −1 = not probed yet. Racing first calls all compute the same value.
static int use_simd = -1;

int qg_simd_enabled(void) {
    int state = __atomic_load_n(&use_simd, __ATOMIC_RELAXED);
    if (state < 0) {
        const char *force = getenv("QG_FORCE_REFERENCE");
        int forced = force != NULL && strcmp(force, "1") == 0;
        state = !forced && qg_cpu_has_avx2_f16c();
        __atomic_store_n(&use_simd, state, __ATOMIC_RELAXED);
    }
    return state;
}

const char *qg_numerics_variant(void) { return qg_simd_enabled() ? "avx2+f16c" : "reference"; }

#define QG_DISPATCH(name, src_t, dst_t)                                              \
    void name(const src_t *restrict src, dst_t *restrict dst, int64_t n) {        \
        if (qg_simd_enabled()) name##_avx2(src, dst, n); else name##_ref(src, dst, n); \
    }

QG_DISPATCH(qg_f16_to_f32, uint16_t, float)
QG_DISPATCH(qg_f32_to_f16, float, uint16_t)
QG_DISPATCH(qg_bf16_to_f32, uint16_t, float)
QG_DISPATCH(qg_f32_to_bf16, float, uint16_t)
QG_DISPATCH(qg_fp8_e4m3_to_f32, uint8_t, float)
QG_DISPATCH(qg_f32_to_fp8_e4m3, float, uint8_t)
QG_DISPATCH(qg_fp8_e5m2_to_f32, uint8_t, float)
QG_DISPATCH(qg_f32_to_fp8_e5m2, float, uint8_t)

float qg_absmax_f32(const float *restrict x, int64_t n, int64_t *restrict first_nonfinite) {
    return qg_simd_enabled() ? qg_absmax_f32_avx2(x, n, first_nonfinite) : qg_absmax_f32_ref(x, n, first_nonfinite);
}

void qg_fp8_e4m3_quantize(const float *restrict x, float scale, int quotient, uint8_t *restrict codes, int64_t n) {
    if (qg_simd_enabled()) qg_fp8_e4m3_quantize_avx2(x, scale, quotient, codes, n); else qg_fp8_e4m3_quantize_ref(x, scale, quotient, codes, n);
}

void qg_fp8_e4m3_fake_quant(float *restrict x, float inverse_scale, float scale, int64_t n) {
    if (qg_simd_enabled()) qg_fp8_e4m3_fake_quant_avx2(x, inverse_scale, scale, n); else qg_fp8_e4m3_fake_quant_ref(x, inverse_scale, scale, n);
}

void qg_fp8_e4m3_fake_quant_div(float *restrict x, float scale, int64_t n) {
    if (qg_simd_enabled()) qg_fp8_e4m3_fake_quant_div_avx2(x, scale, n); else qg_fp8_e4m3_fake_quant_div_ref(x, scale, n);
}

void qg_fp8_e4m3_dequantize(const uint8_t *restrict codes, float scale, float *restrict x, int64_t n) {
    if (qg_simd_enabled()) qg_fp8_e4m3_dequantize_avx2(codes, scale, x, n); else qg_fp8_e4m3_dequantize_ref(codes, scale, x, n);
}

int qg_cpu_vector_level(void) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
        return 3;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
    if (__builtin_cpu_supports("avx")) return 1;
#endif
    return 0;
}

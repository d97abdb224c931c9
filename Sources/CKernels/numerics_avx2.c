// AVX2 (+F16C) conversions, 8 elements per step; the tail of each loop is the reference loop.
// Bit-identical to numerics_ref.c for every input (tests compare them exhaustively).
#include "qg_numerics.h"
#include "qg_fp8.h"

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#define QG_AVX2 __attribute__((target("avx2,f16c,fma")))

// MARK: - f16

QG_AVX2 void qg_f16_to_f32_avx2(const uint16_t *restrict src, float *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    qg_f16_to_f32_ref(src + i, dst + i, n - i);
}

QG_AVX2 void qg_f32_to_f16_avx2(const float *restrict src, uint16_t *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    qg_f32_to_f16_ref(src + i, dst + i, n - i);
}

// MARK: - bf16

QG_AVX2 void qg_bf16_to_f32_avx2(const uint16_t *restrict src, float *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(wide, 16));
    }
    qg_bf16_to_f32_ref(src + i, dst + i, n - i);
}

/// Packs the low 16 bits of eight 32-bit lanes into eight u16, in order.
QG_AVX2 static inline __m128i pack_low16(__m256i v) {
    __m256i packed = _mm256_packus_epi32(v, v);  // per 128-bit lane: [a0..a3 a0..a3] [b0..b3 b0..b3]
    packed = _mm256_permute4x64_epi64(packed, 0x08);  // [a0..a3 b0..b3 ...]
    return _mm256_castsi256_si128(packed);
}

QG_AVX2 void qg_f32_to_bf16_avx2(const float *restrict src, uint16_t *restrict dst, int64_t n) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i inf = _mm256_set1_epi32(0x7F800000);
    const __m256i bias = _mm256_set1_epi32(0x7FFF);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i quiet = _mm256_set1_epi32(0x40);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
        __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
        __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, bias), odd), 16);
        __m256i nan = _mm256_or_si256(_mm256_srli_epi32(x, 16), quiet);
        _mm_storeu_si128((__m128i *)(dst + i), pack_low16(_mm256_blendv_epi8(rounded, nan, is_nan)));
    }
    qg_f32_to_bf16_ref(src + i, dst + i, n - i);
}

// MARK: - FP8

/// Moves the low byte of each of eight 32-bit lanes into the low 8 bytes of the result, in order.
QG_AVX2 static inline __m128i pack_low8(__m256i v) {
    const __m256i pick = _mm256_setr_epi8(
        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i bytes = _mm256_shuffle_epi8(v, pick);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    return _mm256_castsi256_si128(bytes);
}

/// Saturating round-to-nearest-even f32 → 8-bit minifloat codes (one per 32-bit lane, sign in bit 7).
/// Integer arithmetic only, so the result never depends on the MXCSR rounding mode or FTZ/DAZ
/// (a library built with -ffast-math may set those): normal results add the rounding bias to the f32
/// bits; subnormal results shift the significand by a per-lane amount and round the remainder.
QG_AVX2 static inline __m256i encode_fp8(__m256 x, int mbits, int bias, uint32_t max_bits, uint32_t nan_code) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF);
    __m256i bits = _mm256_castps_si256(x);
    __m256i sign = _mm256_srli_epi32(_mm256_andnot_si256(abs_mask, bits), 24);
    __m256i abs = _mm256_and_si256(bits, abs_mask);
    __m256i is_nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000));
    abs = _mm256_min_epu32(abs, _mm256_set1_epi32((int)max_bits));

    int drop = 23 - mbits;
    __m256i odd = _mm256_and_si256(_mm256_srli_epi32(abs, drop), _mm256_set1_epi32(1));
    __m256i rebias = _mm256_set1_epi32((int)(((uint32_t)(bias - 127) << 23) + ((1u << (drop - 1)) - 1u)));
    __m256i normal = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(abs, rebias), odd), drop);

    // Subnormal results (rare for scaled weights, so computed only when a lane needs them):
    // significand >> (151 − bias − mbits − e), capped at 25 (beyond it the value is below half the
    // smallest subnormal and rounds to 0), then round half to even on the dropped bits.
    __m256i is_subnormal = _mm256_cmpgt_epi32(_mm256_set1_epi32((127 - bias + 1) << 23), abs);
    __m256i code = normal;
    if (!_mm256_testz_si256(is_subnormal, is_subnormal)) {
        const __m256i one = _mm256_set1_epi32(1);
        __m256i exponent = _mm256_max_epi32(_mm256_srli_epi32(abs, 23), one);  // f32 subnormals act as e = 1
        __m256i significand = _mm256_and_si256(abs, _mm256_set1_epi32(0x7FFFFF));
        significand = _mm256_or_si256(significand, _mm256_and_si256(
            _mm256_cmpgt_epi32(_mm256_srli_epi32(abs, 23), _mm256_setzero_si256()), _mm256_set1_epi32(0x800000)));
        __m256i shift = _mm256_min_epi32(_mm256_sub_epi32(_mm256_set1_epi32(151 - bias - mbits), exponent),
                                         _mm256_set1_epi32(25));
        __m256i truncated = _mm256_srlv_epi32(significand, shift);
        __m256i rest = _mm256_and_si256(significand, _mm256_sub_epi32(_mm256_sllv_epi32(one, shift), one));
        __m256i halfway = _mm256_sllv_epi32(one, _mm256_sub_epi32(shift, one));
        __m256i up = _mm256_or_si256(_mm256_cmpgt_epi32(rest, halfway),
                                     _mm256_and_si256(_mm256_cmpeq_epi32(rest, halfway),
                                                      _mm256_cmpeq_epi32(_mm256_and_si256(truncated, one), one)));
        __m256i subnormal = _mm256_sub_epi32(truncated, up);  // up is −1 where rounding up
        code = _mm256_blendv_epi8(normal, subnormal, is_subnormal);
    }
    code = _mm256_blendv_epi8(code, _mm256_set1_epi32((int)nan_code), is_nan);
    return _mm256_or_si256(code, sign);
}

/// Decodes eight E4M3FN codes (low byte of each lane). Normal codes: the magnitude shifted left by 20
/// puts exponent and mantissa in the f32 fields, and a multiply by 2^(127 − 7) rebiases (exact).
/// Subnormal codes (exponent 0): m · 2⁻⁹ from the integer m, never touching an f32 denormal, so
/// DAZ/FTZ settings cannot change the result.
QG_AVX2 static inline __m256 decode_e4m3(__m256i codes) {
    __m256i sign = _mm256_slli_epi32(_mm256_and_si256(codes, _mm256_set1_epi32(0x80)), 24);
    __m256i magnitude = _mm256_and_si256(codes, _mm256_set1_epi32(0x7F));
    __m256 normal = _mm256_mul_ps(_mm256_castsi256_ps(_mm256_slli_epi32(magnitude, 20)),
                                  _mm256_castsi256_ps(_mm256_set1_epi32((127 + 120) << 23)));
    __m256 subnormal = _mm256_mul_ps(_mm256_cvtepi32_ps(magnitude), _mm256_set1_ps(1.0f / 512.0f));
    __m256i is_subnormal = _mm256_cmpgt_epi32(_mm256_set1_epi32(8), magnitude);
    __m256 value = _mm256_blendv_ps(normal, subnormal, _mm256_castsi256_ps(is_subnormal));
    __m256i is_nan = _mm256_cmpeq_epi32(magnitude, _mm256_set1_epi32(0x7F));
    __m256i bits = _mm256_blendv_epi8(_mm256_castps_si256(value), _mm256_set1_epi32(0x7FC00000), is_nan);
    return _mm256_castsi256_ps(_mm256_or_si256(bits, sign));
}

QG_AVX2 void qg_fp8_e4m3_to_f32_avx2(const uint8_t *restrict src, float *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i codes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(src + i)));
        _mm256_storeu_ps(dst + i, decode_e4m3(codes));
    }
    qg_fp8_e4m3_to_f32_ref(src + i, dst + i, n - i);
}

QG_AVX2 void qg_f32_to_fp8_e4m3_avx2(const float *restrict src, uint8_t *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i codes = encode_fp8(_mm256_loadu_ps(src + i), 3, 7, 0x43E00000u, 0x7Fu);
        _mm_storel_epi64((__m128i *)(dst + i), pack_low8(codes));
    }
    qg_f32_to_fp8_e4m3_ref(src + i, dst + i, n - i);
}

QG_AVX2 void qg_fp8_e5m2_to_f32_avx2(const uint8_t *restrict src, float *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        // An E5M2 byte is the top byte of an f16: widen to u16, shift, and let F16C decode.
        __m128i halves = _mm_slli_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(src + i))), 8);
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(halves));
    }
    qg_fp8_e5m2_to_f32_ref(src + i, dst + i, n - i);
}

QG_AVX2 void qg_f32_to_fp8_e5m2_avx2(const float *restrict src, uint8_t *restrict dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i codes = encode_fp8(_mm256_loadu_ps(src + i), 2, 15, 0x47600000u, 0x7Eu);
        _mm_storel_epi64((__m128i *)(dst + i), pack_low8(codes));
    }
    qg_f32_to_fp8_e5m2_ref(src + i, dst + i, n - i);
}

// MARK: - Scaled FP8 E4M3 (qg_fp8.h)

QG_AVX2 float qg_absmax_f32_avx2(const float *restrict x, int64_t n, int64_t *restrict first_nonfinite) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256i largest_finite = _mm256_set1_epi32(0x7F7FFFFF);
    __m256 amax = _mm256_setzero_ps();
    __m256i nonfinite = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask);
        nonfinite = _mm256_or_si256(nonfinite, _mm256_cmpgt_epi32(_mm256_castps_si256(a), largest_finite));
        amax = _mm256_max_ps(amax, a);
    }
    if (!_mm256_testz_si256(nonfinite, nonfinite)) return qg_absmax_f32_ref(x, n, first_nonfinite);
    float lanes[8];
    _mm256_storeu_ps(lanes, amax);
    float tail = qg_absmax_f32_ref(x + i, n - i, first_nonfinite);
    if (*first_nonfinite >= 0) *first_nonfinite += i;
    for (int k = 0; k < 8; k++) tail = lanes[k] > tail ? lanes[k] : tail;
    return tail;
}

/// `q` rounded to bf16 (nearest even; a NaN stays a NaN) and widened back, as qg_f32_to_bf16 does.
QG_AVX2 static inline __m256 round_bf16(__m256 q) {
    __m256i bits = _mm256_castps_si256(q);
    __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFFFF)), _mm256_set1_epi32(0x7F800000));
    __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), odd);
    __m256i nan = _mm256_or_si256(bits, _mm256_set1_epi32(0x00400000));
    __m256i high = _mm256_and_si256(_mm256_blendv_epi8(rounded, nan, is_nan), _mm256_set1_epi32((int)0xFFFF0000u));
    return _mm256_castsi256_ps(high);
}

QG_AVX2 void qg_fp8_e4m3_quantize_avx2(const float *restrict x, float scale, int quotient, uint8_t *restrict codes, int64_t n) {
    const __m256 s = _mm256_set1_ps(scale), zero = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 q = _mm256_div_ps(_mm256_loadu_ps(x + i), s);
        if (quotient == QG_QUOTIENT_BF16) q = round_bf16(q);
        else if (quotient == QG_QUOTIENT_F16) q = _mm256_cvtph_ps(_mm256_cvtps_ph(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i codes8 = encode_fp8(_mm256_add_ps(q, zero), 3, 7, 0x43E00000u, 0x7Fu);
        _mm_storel_epi64((__m128i *)(codes + i), pack_low8(codes8));
    }
    qg_fp8_e4m3_quantize_ref(x + i, scale, quotient, codes + i, n - i);
}

QG_AVX2 void qg_fp8_e4m3_fake_quant_avx2(float *restrict x, float inverse_scale, float scale, int64_t n) {
    const __m256 inverse = _mm256_set1_ps(inverse_scale), s = _mm256_set1_ps(scale);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i q = encode_fp8(_mm256_mul_ps(_mm256_loadu_ps(x + i), inverse), 3, 7, 0x43E00000u, 0x7Fu);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(decode_e4m3(q), s));
    }
    qg_fp8_e4m3_fake_quant_ref(x + i, inverse_scale, scale, n - i);
}

QG_AVX2 void qg_fp8_e4m3_fake_quant_div_avx2(float *restrict x, float scale, int64_t n) {
    const __m256 s = _mm256_set1_ps(scale);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i q = encode_fp8(_mm256_div_ps(_mm256_loadu_ps(x + i), s), 3, 7, 0x43E00000u, 0x7Fu);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(decode_e4m3(q), s));
    }
    qg_fp8_e4m3_fake_quant_div_ref(x + i, scale, n - i);
}

QG_AVX2 void qg_fp8_e4m3_dequantize_avx2(const uint8_t *restrict codes, float scale, float *restrict x, int64_t n) {
    const __m256 s = _mm256_set1_ps(scale);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + i)));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(decode_e4m3(q), s));
    }
    qg_fp8_e4m3_dequantize_ref(codes + i, scale, x + i, n - i);
}

#else  // not x86-64: the SIMD names exist so the dispatch table links, and run the reference.

void qg_f16_to_f32_avx2(const uint16_t *restrict s, float *restrict d, int64_t n) { qg_f16_to_f32_ref(s, d, n); }
void qg_f32_to_f16_avx2(const float *restrict s, uint16_t *restrict d, int64_t n) { qg_f32_to_f16_ref(s, d, n); }
void qg_bf16_to_f32_avx2(const uint16_t *restrict s, float *restrict d, int64_t n) { qg_bf16_to_f32_ref(s, d, n); }
void qg_f32_to_bf16_avx2(const float *restrict s, uint16_t *restrict d, int64_t n) { qg_f32_to_bf16_ref(s, d, n); }
void qg_fp8_e4m3_to_f32_avx2(const uint8_t *restrict s, float *restrict d, int64_t n) { qg_fp8_e4m3_to_f32_ref(s, d, n); }
void qg_f32_to_fp8_e4m3_avx2(const float *restrict s, uint8_t *restrict d, int64_t n) { qg_f32_to_fp8_e4m3_ref(s, d, n); }
void qg_fp8_e5m2_to_f32_avx2(const uint8_t *restrict s, float *restrict d, int64_t n) { qg_fp8_e5m2_to_f32_ref(s, d, n); }
void qg_f32_to_fp8_e5m2_avx2(const float *restrict s, uint8_t *restrict d, int64_t n) { qg_f32_to_fp8_e5m2_ref(s, d, n); }

float qg_absmax_f32_avx2(const float *restrict x, int64_t n, int64_t *restrict f) { return qg_absmax_f32_ref(x, n, f); }
void qg_fp8_e4m3_quantize_avx2(const float *restrict x, float s, int q, uint8_t *restrict c, int64_t n) { qg_fp8_e4m3_quantize_ref(x, s, q, c, n); }
void qg_fp8_e4m3_fake_quant_avx2(float *restrict x, float i, float s, int64_t n) { qg_fp8_e4m3_fake_quant_ref(x, i, s, n); }
void qg_fp8_e4m3_fake_quant_div_avx2(float *restrict x, float s, int64_t n) { qg_fp8_e4m3_fake_quant_div_ref(x, s, n); }
void qg_fp8_e4m3_dequantize_avx2(const uint8_t *restrict c, float s, float *restrict x, int64_t n) { qg_fp8_e4m3_dequantize_ref(c, s, x, n); }

#endif

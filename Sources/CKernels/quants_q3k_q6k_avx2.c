// AVX2 quantizers and dequantizers for Q3_K and Q6_K, bit-identical to quants_q3k_q6k_ref.c for every
// input.
//
// Vectorised: the symmetric group searches (across trial scales, quants_search.c), the importance
// weights, the requantization of each group against its decoded scale, the hmask/qs and ql/qh packing,
// and the dequantizers; Q3_K's descent searches without weights run all sixteen groups side by side, one
// per lane (within a group each move depends on the previous one). Kept scalar: the super-block Σx²,
// each group's Σw, and the handful of per-group scale decisions. A super-block holding NaN or ±Inf, or
// an importance matrix holding one, is handed to the reference code.
#include "quants_internal.h"
#include "quants_search.h"

QG_NO_FP_CONTRACT

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>
#include <math.h>

#define QG_AVX2 __attribute__((target("avx2,f16c,fma")))

enum { QK_K = 256 };

QG_AVX2 static inline __m256i round_magic8(__m256 v) {
    __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x00400000));
}

/// Writes eight int32 lanes holding values in [-128, 127] as eight bytes.
QG_AVX2 static inline void store_bytes8(void *dst, __m256i v) {
    __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)dst, _mm_packs_epi16(w16, w16));
}

/// L[i] = clamp(round(x[i] / d), lo, hi) − lo for one group of 16.
QG_AVX2 static inline void requantize_group(const float *x, float d, int lo, int hi, int8_t *L) {
    const __m256 vd = _mm256_set1_ps(d);
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    for (int h = 0; h < 16; h += 8) {
        __m256i l = round_magic8(_mm256_div_ps(_mm256_loadu_ps(x + h), vd));
        l = _mm256_max_epi32(vlo, _mm256_min_epi32(vhi, l));
        store_bytes8(L + h, _mm256_sub_epi32(l, vlo));
    }
}

// MARK: - Q3_K

/// Requantizes the groups against their decoded scales and writes hmask and qs. The levels are 0…7,
/// so "subtract 4 when above 3" is "keep the low two bits".
QG_AVX2 static void q3k_finish(const float *x, int8_t *L, uint8_t *block) {
    int mult[16];
    qg_q3k_unpack_scales(block + 96, mult);
    const float d_all = qg_get_half(block + 108);
    for (int g = 0; g < 16; g++) {
        const float d = d_all * (float)mult[g];
        if (d == 0.0f) continue;
        requantize_group(x + 16 * g, d, -4, 3, L + 16 * g);
    }
    const __m256i three = _mm256_set1_epi8(3);
    __m256i hm = _mm256_setzero_si256();
    __m256i low[8];
    for (int b = 0; b < 8; b++) {
        __m256i c = _mm256_loadu_si256((const __m256i *)(L + 32 * b));
        hm = _mm256_or_si256(hm, _mm256_and_si256(_mm256_cmpgt_epi8(c, three), _mm256_set1_epi8((char)(1 << b))));
        low[b] = _mm256_and_si256(c, three);
    }
    _mm256_storeu_si256((__m256i *)block, hm);
    for (int h = 0; h < 2; h++) {
        __m256i q = _mm256_or_si256(low[4 * h], _mm256_slli_epi16(low[4 * h + 1], 2));
        q = _mm256_or_si256(q, _mm256_or_si256(_mm256_slli_epi16(low[4 * h + 2], 4), _mm256_slli_epi16(low[4 * h + 3], 6)));
        _mm256_storeu_si256((__m256i *)(block + 32 + 32 * h), q);
    }
}

QG_AVX2 static void q3k_block_plain(const float *x, uint8_t *block) {
    int8_t L[QK_K];
    float scales[16];
    float amax = 0.0f, max_scale = 0.0f;
    qg_search_symmetric_descent16_avx2(4, x, L, scales);
    for (int g = 0; g < 16; g++) {
        float a = fabsf(scales[g]);
        if (a > amax) {
            amax = a;
            max_scale = scales[g];
        }
    }
    if (max_scale != 0.0f) {
        const float iscale = -32.0f / max_scale;
        int levels[16];
        for (int g = 0; g < 16; g++) {
            int8_t l = (int8_t)qg_round_magic(iscale * scales[g]);
            levels[g] = qg_clamp_int(l, -32, 31) + 32;
        }
        qg_q3k_pack_scales(levels, block + 96);
        qg_put_half(block + 108, 1.0f / iscale);
    } else {
        memset(block + 96, 0, 12);
        qg_put_half(block + 108, 0.0f);
    }
    q3k_finish(x, L, block);
}

QG_AVX2 static void q3k_block_weighted(const float *x, const float *qw, uint8_t *block) {
    int8_t L[QK_K];
    float scales[16], group_weight[16], w[16];
    float sumx2 = 0.0f;
    for (int i = 0; i < QK_K; i++) sumx2 += x[i] * x[i];
    const float sigma2 = 2.0f * sumx2 / (float)QK_K;
    const __m256 s2 = _mm256_set1_ps(sigma2);
    for (int g = 0; g < 16; g++) {
        for (int h = 0; h < 16; h += 8) {
            __m256 v = _mm256_loadu_ps(x + 16 * g + h);
            __m256 r = _mm256_sqrt_ps(_mm256_add_ps(s2, _mm256_mul_ps(v, v)));
            _mm256_storeu_ps(w + h, _mm256_mul_ps(_mm256_loadu_ps(qw + 16 * g + h), r));
        }
        float sumw = 0.0f;
        for (int i = 0; i < 16; i++) sumw += w[i];
        group_weight[g] = sumw;
        scales[g] = qg_search_symmetric_avx2(16, 4, x + 16 * g, w, L + 16 * g);
    }
    int8_t Ls[16];
    const float d_block = qg_search_symmetric_avx2(16, 32, scales, group_weight, Ls);
    int levels[16];
    for (int g = 0; g < 16; g++) levels[g] = Ls[g];
    qg_q3k_pack_scales(levels, block + 96);
    qg_put_half(block + 108, d_block);
    q3k_finish(x, L, block);
}

QG_AVX2 void qg_quantize_q3_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix && !qg_all_finite_avx2(imatrix, n_per_row)) {
        qg_quantize_q3_k_ref(src, dst, nrows, n_per_row, imatrix);
        return;
    }
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK_K;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        for (int64_t b = 0; b < nb; b++, y += 110) {
            const float *xb = x + b * QK_K;
            if (!qg_all_finite_avx2(xb, QK_K)) {
                qg_quantize_q3_k_ref(xb, y, 1, QK_K, imatrix ? imatrix + b * QK_K : NULL);
            } else if (imatrix) {
                q3k_block_weighted(xb, imatrix + b * QK_K, y);
            } else {
                q3k_block_plain(xb, y);
            }
        }
    }
}

QG_AVX2 void qg_dequantize_q3_k_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i three = _mm256_set1_epi32(3), one = _mm256_set1_epi32(1), four = _mm256_set1_epi32(4);
    for (int64_t k = 0; k < n; k += QK_K, b += 110, dst += QK_K) {
        const uint8_t *hmask = b, *qs = b + 32;
        int mult[16];
        qg_q3k_unpack_scales(b + 96, mult);
        const float d_all = qg_get_half(b + 108);
        for (int i = 0; i < QK_K; i += 8) {
            const int h = i / 128, k4 = (i % 128) / 32, l = i % 32;
            __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qs + 32 * h + l)));
            __m256i m = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(hmask + l)));
            q = _mm256_and_si256(_mm256_srli_epi32(q, 2 * k4), three);
            m = _mm256_and_si256(_mm256_srli_epi32(m, i / 32), one);
            q = _mm256_sub_epi32(_mm256_or_si256(q, _mm256_slli_epi32(m, 2)), four);
            const __m256 dl = _mm256_set1_ps(d_all * (float)mult[i / 16]);
            _mm256_storeu_ps(dst + i, _mm256_mul_ps(dl, _mm256_cvtepi32_ps(q)));
        }
    }
}

// MARK: - Q6_K

/// ql and qh from 256 levels in 0…63.
QG_AVX2 static void q6k_pack(const int8_t *L, uint8_t *ql, uint8_t *qh) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    for (int h = 0; h < 2; h++) {
        __m256i q[4];
        for (int k = 0; k < 4; k++) q[k] = _mm256_loadu_si256((const __m256i *)(L + 128 * h + 32 * k));
        __m256i lo0 = _mm256_or_si256(_mm256_and_si256(q[0], nib), _mm256_slli_epi16(_mm256_and_si256(q[2], nib), 4));
        __m256i lo1 = _mm256_or_si256(_mm256_and_si256(q[1], nib), _mm256_slli_epi16(_mm256_and_si256(q[3], nib), 4));
        _mm256_storeu_si256((__m256i *)(ql + 64 * h), lo0);
        _mm256_storeu_si256((__m256i *)(ql + 64 * h + 32), lo1);
        __m256i top = _mm256_and_si256(_mm256_srli_epi16(q[0], 4), nib);
        top = _mm256_or_si256(top, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q[1], 4), nib), 2));
        top = _mm256_or_si256(top, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q[2], 4), nib), 4));
        top = _mm256_or_si256(top, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(q[3], 4), nib), 6));
        _mm256_storeu_si256((__m256i *)(qh + 32 * h), top);
    }
}

QG_AVX2 static void q6k_block(const float *x, const float *qw, uint8_t *block) {
    int8_t L[QK_K];
    float scales[16];
    float max_abs = 0.0f, max_scale = 0.0f;
    for (int g = 0; g < 16; g++) {
        scales[g] = qg_search_symmetric_avx2(16, 32, x + 16 * g, qw ? qw + 16 * g : NULL, L + 16 * g);
        float a = fabsf(scales[g]);
        if (a > max_abs) {
            max_abs = a;
            max_scale = scales[g];
        }
    }
    if (max_abs < QG_SEARCH_ZERO_EPS) {
        memset(block, 0, 210);
        return;
    }
    int8_t *sc = (int8_t *)(block + 192);
    const float iscale = -128.0f / max_scale;
    qg_put_half(block + 208, 1.0f / iscale);
    for (int g = 0; g < 16; g++) {
        int l = qg_round_magic(iscale * scales[g]);
        sc[g] = (int8_t)(l < 127 ? l : 127);
    }
    const float d_all = qg_get_half(block + 208);
    for (int g = 0; g < 16; g++) {
        const float d = d_all * (float)sc[g];
        if (d == 0.0f) continue;
        requantize_group(x + 16 * g, d, -32, 31, L + 16 * g);
    }
    q6k_pack(L, block, block + 128);
}

QG_AVX2 void qg_quantize_q6_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix && !qg_all_finite_avx2(imatrix, n_per_row)) {
        qg_quantize_q6_k_ref(src, dst, nrows, n_per_row, imatrix);
        return;
    }
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK_K;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        for (int64_t b = 0; b < nb; b++, y += 210) {
            const float *xb = x + b * QK_K;
            const float *qw = imatrix ? imatrix + b * QK_K : NULL;
            if (!qg_all_finite_avx2(xb, QK_K)) {
                qg_quantize_q6_k_ref(xb, y, 1, QK_K, qw);
            } else {
                q6k_block(xb, qw, y);
            }
        }
    }
}

QG_AVX2 void qg_dequantize_q6_k_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i nib = _mm256_set1_epi32(0x0F), three = _mm256_set1_epi32(3), bias = _mm256_set1_epi32(32);
    for (int64_t k = 0; k < n; k += QK_K, b += 210, dst += QK_K) {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        const float d = qg_get_half(b + 208);
        for (int i = 0; i < QK_K; i += 8) {
            const int h = i / 128, k4 = (i % 128) / 32, l = i % 32;
            __m256i lo = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(ql + 64 * h + l + 32 * (k4 & 1))));
            __m256i hi = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qh + 32 * h + l)));
            lo = _mm256_and_si256(_mm256_srli_epi32(lo, 4 * (k4 >> 1)), nib);
            hi = _mm256_and_si256(_mm256_srli_epi32(hi, 2 * k4), three);
            __m256i q = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), bias);
            const __m256 ds = _mm256_set1_ps(d * (float)sc[i / 16]);
            _mm256_storeu_ps(dst + i, _mm256_mul_ps(ds, _mm256_cvtepi32_ps(q)));
        }
    }
}

#else  // not x86-64: the reference code

void qg_quantize_q3_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q3_k_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_quantize_q6_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q6_k_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_dequantize_q3_k_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q3_k_ref(src, dst, n); }
void qg_dequantize_q6_k_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q6_k_ref(src, dst, n); }

#endif

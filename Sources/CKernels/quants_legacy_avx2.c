// AVX2 quantizers and dequantizers for Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0, bit-identical to
// quants_legacy_ref.c for every input.
//
// Vectorised: the peak / min / max scans (vector max/min, then the first element equal to the result,
// which is what the scalar first-match scans keep), the per-value scaling, rounding, truncation and
// packing, the importance weights, and the dequantizers. Sums keep the reference order: the row's Σx²
// stays scalar, and in the searches each vector lane sums one trial scale in order (quants_search.c).
// A block (plain) or row (imatrix) holding NaN or ±Inf, or an importance matrix holding one, is handed
// to the reference code (which of two NaN operands propagates is not fixed by C, so NaN payloads from
// the input could otherwise leave the vector and scalar sums differently).
#include "quants_internal.h"
#include "quants_search.h"

QG_NO_FP_CONTRACT

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>
#include <math.h>

#define QG_AVX2 __attribute__((target("avx2,f16c,fma")))

enum { QK = 32 };

// MARK: - Helpers

QG_AVX2 static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

QG_AVX2 static inline float hmin8(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/// 1 when the 32 values in v[] are all finite.
QG_AVX2 static inline int block_finite(const __m256 *v) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF), below_inf = _mm256_set1_epi32(0x7F7FFFFF);
    __m256i bad = _mm256_setzero_si256();
    for (int k = 0; k < 4; k++) {
        __m256i a = _mm256_and_si256(_mm256_castps_si256(v[k]), abs_mask);
        bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(a, below_inf));
    }
    return _mm256_testz_si256(bad, bad);
}

/// Index of the first of the 32 values equal (==) to `target`; the caller knows one is.
QG_AVX2 static inline int first_equal(const __m256 *v, float target) {
    __m256 t = _mm256_set1_ps(target);
    for (int k = 0; k < 4; k++) {
        int m = _mm256_movemask_ps(_mm256_cmp_ps(v[k], t, _CMP_EQ_OQ));
        if (m) return 8 * k + __builtin_ctz((unsigned)m);
    }
    return 0;
}

/// The first value of largest magnitude among 32 finite values (0 when all are zero): the scalar
/// `amax < |x|` scan's answer.
QG_AVX2 static inline float block_peak(const float *x, const __m256 *v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 acc = _mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1]));
    acc = _mm256_max_ps(acc, _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
    const float amax = hmax8(acc);
    if (!(amax > 0.0f)) return 0.0f;
    __m256 t = _mm256_set1_ps(amax);
    for (int k = 0; k < 4; k++) {
        int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v[k]), t, _CMP_EQ_OQ));
        if (m) return x[8 * k + __builtin_ctz((unsigned)m)];
    }
    return 0.0f;
}

/// x86 truncation of each lane, reduced to its low byte read as int8 (ggml's `(int8_t)f`).
QG_AVX2 static inline __m256i trunc_low_byte_signed(__m256 v) {
    return _mm256_srai_epi32(_mm256_slli_epi32(_mm256_cvttps_epi32(v), 24), 24);
}

/// Sixteen int32 lanes (a: values 0-7, b: 8-15), each in 0…255, as sixteen bytes.
QG_AVX2 static inline __m128i bytes16(__m256i a, __m256i b) {
    __m256i w = _mm256_packus_epi32(a, b);  // per 128-bit half: a0-3 b0-3 | a4-7 b4-7
    __m256i by = _mm256_packus_epi16(w, w);  // dword 0: a0-3, 1: b0-3 | dword 4: a4-7, 5: b4-7
    by = _mm256_permutevar8x32_epi32(by, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0));
    return _mm256_castsi256_si128(by);
}

/// Thirty-two int32 lanes (v[k]: values 8k…8k+7), each in 0…255, as 32 bytes.
QG_AVX2 static inline __m256i bytes32(const __m256i *v) {
    __m256i p01 = _mm256_packus_epi32(v[0], v[1]);
    __m256i p23 = _mm256_packus_epi32(v[2], v[3]);
    __m256i by = _mm256_packus_epi16(p01, p23);  // dwords: v0[0-3] v1[0-3] v2[0-3] v3[0-3] | v0[4-7] …
    return _mm256_permutevar8x32_epi32(by, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/// Q4 packing: byte j = (level j | level j+16 << 4) mod 256, from levels already reduced to 0…255.
QG_AVX2 static inline void pack_q4(const __m256i *l, uint8_t *qs) {
    const __m256i ff = _mm256_set1_epi32(0xFF);
    __m256i a = _mm256_and_si256(_mm256_or_si256(l[0], _mm256_slli_epi32(l[2], 4)), ff);
    __m256i b = _mm256_and_si256(_mm256_or_si256(l[1], _mm256_slli_epi32(l[3], 4)), ff);
    _mm_storeu_si128((__m128i *)qs, bytes16(a, b));
}

/// Q5 packing: low nibbles as in Q4 (masked), bit 4 of level j into bit j of qh.
QG_AVX2 static inline void pack_q5(const __m256i *l, uint8_t *qh_out, uint8_t *qs) {
    const __m256i f = _mm256_set1_epi32(0x0F);
    __m256i a = _mm256_or_si256(_mm256_and_si256(l[0], f), _mm256_slli_epi32(_mm256_and_si256(l[2], f), 4));
    __m256i b = _mm256_or_si256(_mm256_and_si256(l[1], f), _mm256_slli_epi32(_mm256_and_si256(l[3], f), 4));
    _mm_storeu_si128((__m128i *)qs, bytes16(a, b));
    uint32_t qh = 0;
    for (int k = 0; k < 4; k++) {
        qh |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(l[k], 27))) << (8 * k);
    }
    memcpy(qh_out, &qh, 4);
}

/// Levels in int32 lanes from the 32-byte level array a search wrote.
QG_AVX2 static inline void load_levels(const void *L, __m256i *l) {
    for (int k = 0; k < 4; k++) l[k] = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)((const uint8_t *)L + 8 * k)));
}

static float row_mean_square(const float *x, int64_t n) {
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) sum += x[j] * x[j];
    return sum / (float)n;
}

QG_AVX2 static inline void importance_weights(const float *x, const float *imatrix, float sigma2, float *w) {
    const __m256 s2 = _mm256_set1_ps(sigma2);
    for (int j = 0; j < QK; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        __m256 r = _mm256_sqrt_ps(_mm256_add_ps(s2, _mm256_mul_ps(v, v)));
        _mm256_storeu_ps(w + j, _mm256_mul_ps(_mm256_loadu_ps(imatrix + j), r));
    }
}

// MARK: - Plain blocks

/// Symmetric plain block: d = peak/−half, level = min(top, (int8)trunc(x·id + half + 0.5)) as 0…255.
QG_AVX2 static inline float symmetric_levels(const float *x, const __m256 *v, float half, int top, __m256i *l) {
    const float d = block_peak(x, v) / -half;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id), bias = _mm256_set1_ps(half + 0.5f);
    const __m256i vtop = _mm256_set1_epi32(top), ff = _mm256_set1_epi32(0xFF);
    for (int k = 0; k < 4; k++) {
        __m256i s = trunc_low_byte_signed(_mm256_add_ps(_mm256_mul_ps(v[k], vid), bias));
        l[k] = _mm256_and_si256(_mm256_min_epi32(s, vtop), ff);
    }
    return d;
}

/// Affine plain block: d = (max − min)/(2^bits − 1), level = (int8)trunc((x − min)·id + 0.5), capped
/// at 15 for four bits, as 0…255.
QG_AVX2 static inline float affine_levels(const float *x, const __m256 *v, int bits, float *min_out, __m256i *l) {
    __m256 lo = _mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3]));
    __m256 hi = _mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3]));
    const float mn = x[first_equal(v, hmin8(lo))];
    const float mx = x[first_equal(v, hmax8(hi))];
    const float d = (mx - mn) / (float)((1 << bits) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id), vmn = _mm256_set1_ps(mn), half = _mm256_set1_ps(0.5f);
    const __m256i cap = _mm256_set1_epi32(bits == 4 ? 15 : 127), ff = _mm256_set1_epi32(0xFF);
    for (int k = 0; k < 4; k++) {
        __m256i s = trunc_low_byte_signed(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[k], vmn), vid), half));
        l[k] = _mm256_and_si256(_mm256_min_epi32(s, cap), ff);
    }
    *min_out = mn;
    return d;
}

QG_AVX2 static inline void load_block(const float *x, __m256 *v) {
    for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
}

// MARK: - Q4_0

QG_AVX2 void qg_quantize_q4_0_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix && !qg_all_finite_avx2(imatrix, n_per_row)) {
        qg_quantize_q4_0_ref(src, dst, nrows, n_per_row, imatrix);
        return;
    }
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 18) {
                __m256 v[4];
                __m256i l[4];
                load_block(x + b * QK, v);
                if (!block_finite(v)) {
                    qg_quantize_q4_0_ref(x + b * QK, y, 1, QK, NULL);
                    continue;
                }
                qg_put_half(y, symmetric_levels(x + b * QK, v, 8.0f, 15, l));
                pack_q4(l, y + 2);
            }
            continue;
        }
        if (!qg_all_finite_avx2(x, n_per_row)) {
            qg_quantize_q4_0_ref(x, y, 1, n_per_row, imatrix);
            y += nb * 18;
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 18) {
            float w[QK];
            int8_t L[QK];
            __m256i l[4];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            qg_put_half(y, qg_search_symmetric_avx2(QK, 8, x + b * QK, w, L));
            load_levels(L, l);
            pack_q4(l, y + 2);
        }
    }
}

// MARK: - Q4_1

QG_AVX2 void qg_quantize_q4_1_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix && !qg_all_finite_avx2(imatrix, n_per_row)) {
        qg_quantize_q4_1_ref(src, dst, nrows, n_per_row, imatrix);
        return;
    }
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 20) {
                __m256 v[4];
                __m256i l[4];
                load_block(x + b * QK, v);
                if (!block_finite(v)) {
                    qg_quantize_q4_1_ref(x + b * QK, y, 1, QK, NULL);
                    continue;
                }
                float mn;
                qg_put_half(y, affine_levels(x + b * QK, v, 4, &mn, l));
                qg_put_half(y + 2, mn);
                pack_q4(l, y + 4);
            }
            continue;
        }
        if (!qg_all_finite_avx2(x, n_per_row)) {
            qg_quantize_q4_1_ref(x, y, 1, n_per_row, imatrix);
            y += nb * 20;
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 20) {
            float w[QK], neg_min;
            uint8_t L[QK];
            __m256i l[4];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            float d = qg_search_affine_avx2(QK, 15, x + b * QK, w, L, &neg_min);
            qg_put_half(y, d);
            qg_put_half(y + 2, -neg_min);
            load_levels(L, l);
            pack_q4(l, y + 4);
        }
    }
}

// MARK: - Q5_0

QG_AVX2 void qg_quantize_q5_0_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix && !qg_all_finite_avx2(imatrix, n_per_row)) {
        qg_quantize_q5_0_ref(src, dst, nrows, n_per_row, imatrix);
        return;
    }
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 22) {
                __m256 v[4];
                __m256i l[4];
                load_block(x + b * QK, v);
                if (!block_finite(v)) {
                    qg_quantize_q5_0_ref(x + b * QK, y, 1, QK, NULL);
                    continue;
                }
                qg_put_half(y, symmetric_levels(x + b * QK, v, 16.0f, 31, l));
                pack_q5(l, y + 2, y + 6);
            }
            continue;
        }
        if (!qg_all_finite_avx2(x, n_per_row)) {
            qg_quantize_q5_0_ref(x, y, 1, n_per_row, imatrix);
            y += nb * 22;
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 22) {
            float w[QK];
            int8_t L[QK];
            __m256i l[4];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            qg_put_half(y, qg_search_symmetric_avx2(QK, 16, x + b * QK, w, L));
            load_levels(L, l);
            pack_q5(l, y + 2, y + 6);
        }
    }
}

// MARK: - Q5_1

QG_AVX2 void qg_quantize_q5_1_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    if (imatrix && !qg_all_finite_avx2(imatrix, n_per_row)) {
        qg_quantize_q5_1_ref(src, dst, nrows, n_per_row, imatrix);
        return;
    }
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 24) {
                __m256 v[4];
                __m256i l[4];
                load_block(x + b * QK, v);
                if (!block_finite(v)) {
                    qg_quantize_q5_1_ref(x + b * QK, y, 1, QK, NULL);
                    continue;
                }
                float mn;
                qg_put_half(y, affine_levels(x + b * QK, v, 5, &mn, l));
                qg_put_half(y + 2, mn);
                pack_q5(l, y + 4, y + 8);
            }
            continue;
        }
        if (!qg_all_finite_avx2(x, n_per_row)) {
            qg_quantize_q5_1_ref(x, y, 1, n_per_row, imatrix);
            y += nb * 24;
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 24) {
            float w[QK], neg_min;
            uint8_t L[QK];
            __m256i l[4];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            float d = qg_search_affine_avx2(QK, 31, x + b * QK, w, L, &neg_min);
            qg_put_half(y, d);
            qg_put_half(y + 2, -neg_min);
            load_levels(L, l);
            pack_q5(l, y + 4, y + 8);
        }
    }
}

// MARK: - Q8_0

/// roundf (halves away from zero) lane by lane: trunc(t) plus ±1 where the dropped fraction is ≥ 0.5.
/// Exact: t − trunc(t) is representable, and ±Inf/NaN pass through unchanged.
QG_AVX2 static inline __m256 round_half_away(__m256 t) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 tr = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(t, tr));
    __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(t, sign));
    return _mm256_add_ps(tr, _mm256_and_ps(up, step));
}

QG_AVX2 void qg_quantize_q8_0_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    (void)imatrix;
    uint8_t *y = dst;
    const int64_t n = nrows * n_per_row;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i ff = _mm256_set1_epi32(0xFF);
    for (int64_t i = 0; i < n; i += QK, y += 34) {
        __m256 v[4];
        load_block(src + i, v);
        if (!block_finite(v)) {
            qg_quantize_q8_0_ref(src + i, y, 1, QK, NULL);
            continue;
        }
        __m256 acc = _mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1]));
        acc = _mm256_max_ps(acc, _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
        const float d = hmax8(acc) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        qg_put_half(y, d);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; k++) q[k] = _mm256_and_si256(_mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v[k], vid))), ff);
        _mm256_storeu_si256((__m256i *)(y + 2), bytes32(q));
    }
}

// MARK: - Dequantization

/// Eight f32 from eight int32 levels: (float)(level) · d, or (float)(level) · d + m.
QG_AVX2 static inline void store_scaled(float *dst, __m256i levels, __m256 d) {
    _mm256_storeu_ps(dst, _mm256_mul_ps(_mm256_cvtepi32_ps(levels), d));
}
/// A NaN product is kept over a NaN m, as the reference does.
QG_AVX2 static inline void store_scaled_offset(float *dst, __m256i levels, __m256 d, __m256 m) {
    __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(levels), d);
    __m256 r = _mm256_blendv_ps(_mm256_add_ps(p, m), p, _mm256_cmp_ps(p, p, _CMP_UNORD_Q));
    _mm256_storeu_ps(dst, r);
}

/// The 32 nibbles of 16 packed bytes as int32 lanes: n[0], n[1] the low nibbles (values 0-15), n[2], n[3]
/// the high nibbles (values 16-31).
QG_AVX2 static inline void unpack_nibbles(const uint8_t *qs, __m256i *n) {
    const __m256i f = _mm256_set1_epi32(0x0F);
    __m256i a = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)qs));
    __m256i b = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qs + 8)));
    n[0] = _mm256_and_si256(a, f);
    n[1] = _mm256_and_si256(b, f);
    n[2] = _mm256_srli_epi32(a, 4);
    n[3] = _mm256_srli_epi32(b, 4);
}

/// Adds bit j of qh, as 16, to level j.
QG_AVX2 static inline void add_fifth_bits(const uint8_t *qh_bytes, __m256i *n) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, 4);
    const __m256i shifts = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i sixteen = _mm256_set1_epi32(16);
    for (int k = 0; k < 4; k++) {
        __m256i bits = _mm256_srlv_epi32(_mm256_set1_epi32((int)(qh >> (8 * k))), shifts);
        n[k] = _mm256_or_si256(n[k], _mm256_and_si256(_mm256_slli_epi32(bits, 4), sixteen));
    }
}

QG_AVX2 void qg_dequantize_q4_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i eight = _mm256_set1_epi32(8);
    for (int64_t i = 0; i < n; i += QK, b += 18, dst += QK) {
        const __m256 d = _mm256_set1_ps(qg_get_half(b));
        __m256i l[4];
        unpack_nibbles(b + 2, l);
        for (int k = 0; k < 4; k++) store_scaled(dst + 8 * k, _mm256_sub_epi32(l[k], eight), d);
    }
}

QG_AVX2 void qg_dequantize_q4_1_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 20, dst += QK) {
        const __m256 d = _mm256_set1_ps(qg_get_half(b)), m = _mm256_set1_ps(qg_get_half(b + 2));
        __m256i l[4];
        unpack_nibbles(b + 4, l);
        for (int k = 0; k < 4; k++) store_scaled_offset(dst + 8 * k, l[k], d, m);
    }
}

QG_AVX2 void qg_dequantize_q5_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    const __m256i sixteen = _mm256_set1_epi32(16);
    for (int64_t i = 0; i < n; i += QK, b += 22, dst += QK) {
        const __m256 d = _mm256_set1_ps(qg_get_half(b));
        __m256i l[4];
        unpack_nibbles(b + 6, l);
        add_fifth_bits(b + 2, l);
        for (int k = 0; k < 4; k++) store_scaled(dst + 8 * k, _mm256_sub_epi32(l[k], sixteen), d);
    }
}

QG_AVX2 void qg_dequantize_q5_1_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 24, dst += QK) {
        const __m256 d = _mm256_set1_ps(qg_get_half(b)), m = _mm256_set1_ps(qg_get_half(b + 2));
        __m256i l[4];
        unpack_nibbles(b + 8, l);
        add_fifth_bits(b + 4, l);
        for (int k = 0; k < 4; k++) store_scaled_offset(dst + 8 * k, l[k], d, m);
    }
}

QG_AVX2 void qg_dequantize_q8_0_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 34, dst += QK) {
        const __m256 d = _mm256_set1_ps(qg_get_half(b));
        for (int k = 0; k < 4; k++) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 2 + 8 * k)));
            store_scaled(dst + 8 * k, q, d);
        }
    }
}

#else  // not x86-64: the reference code

void qg_quantize_q4_0_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q4_0_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_quantize_q4_1_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q4_1_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_quantize_q5_0_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q5_0_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_quantize_q5_1_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q5_1_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_quantize_q8_0_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q8_0_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_dequantize_q4_0_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q4_0_ref(src, dst, n); }
void qg_dequantize_q4_1_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q4_1_ref(src, dst, n); }
void qg_dequantize_q5_0_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q5_0_ref(src, dst, n); }
void qg_dequantize_q5_1_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q5_1_ref(src, dst, n); }
void qg_dequantize_q8_0_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q8_0_ref(src, dst, n); }

#endif

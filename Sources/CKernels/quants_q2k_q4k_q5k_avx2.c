// AVX2 Q2_K, Q4_K and Q5_K: bit-identical to quants_q2k_q4k_q5k_ref.c for every input.
//
// Quantization runs the reference super-block code (quants_q2k_q4k_q5k_ref.c) with vectorised inner
// kernels. Only element-wise work is vectorised: range rounding, clamping, the per-value products and
// error terms, and the final re-rounding; each of these is one correctly rounded IEEE operation per
// element, the same in a vector lane as in a scalar register. Every order-dependent float sum is still
// accumulated in index order by scalar code, from the vector-computed terms. FP contraction is off
// (quants_kx_search.h), so no product is fused into an addition.
//
// One further saving cannot change a bit: a sweep candidate whose codes equal those of the candidate just
// before it is skipped. Its sums, fitted line and error would be identical to that candidate's, and that
// error was either accepted (then it equals the best error, and the strict `<` rejects a repeat) or
// rejected (then it is ≥ the best error, which only decreases), so the repeat can never be accepted.
//
// Dequantization is fully vectorised: one multiply and one subtract per value, as in the reference.
#include "quants_kx_search.h"
#include "quants_internal.h"

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#define QG_AVX2 __attribute__((target("avx2,f16c,fma")))

// MARK: - Vector helpers

/// qg_kx_round lane-wise, then clamped to [0, nmax].
QG_AVX2 static inline __m256i round_clamp(__m256 v, __m256i nmax) {
    __m256 biased = _mm256_add_ps(v, _mm256_set1_ps(12582912.0f));
    __m256i q = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(biased), _mm256_set1_epi32(0x007FFFFF)),
                                 _mm256_set1_epi32(0x00400000));
    return _mm256_max_epi32(_mm256_min_epi32(q, nmax), _mm256_setzero_si256());
}

/// Error terms w · e(scale · L + lo − x), e = |·| or (·)², lane-wise, in the reference's operation order.
QG_AVX2 static inline __m256 error_terms(__m256 lf, __m256 x, __m256 w, __m256 scale, __m256 lo, int use_mad) {
    __m256 r = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, lf), lo), x);
    r = use_mad ? _mm256_and_ps(r, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))) : _mm256_mul_ps(r, r);
    return _mm256_mul_ps(w, r);
}

/// Stores the low byte of each of 8·nv int32 lanes to `dst`, in order.
QG_AVX2 static inline void store_codes(const __m256i *q, int nv, uint8_t *dst) {
    for (int v = 0; v < nv; v++) {
        __m128i lo = _mm256_castsi256_si128(q[v]), hi = _mm256_extracti128_si256(q[v], 1);
        __m128i w16 = _mm_packus_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)(dst + 8 * v), _mm_packus_epi16(w16, w16));
    }
}

// MARK: - Affine search (qg_kx_fit_affine_ref, n = 16 or 32)

QG_AVX2 static float fit_affine_avx2(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min,
                                     const struct qg_kx_sweep *sweep) {
    if (n % 8 != 0 || n > 32) return qg_kx_fit_affine_ref(n, nmax, x, w, L, neg_min, sweep);
    const int nv = n / 8;

    // Range and weighted totals: one sequential pass, as in the reference.
    float lo = x[0], hi = x[0];
    float wsum = w[0];
    float wxsum = wsum * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        wsum += w[i];
        wxsum += w[i] * x[i];
    }
    if (lo > 0) lo = 0;
    if (hi == lo) {
        memset(L, 0, (size_t)n);
        *neg_min = -lo;
        return 0.0f;
    }

    const __m256i vmax = _mm256_set1_epi32(nmax);
    const int use_mad = sweep->use_mad;
    __m256 X[4], W[4], XL[4];  // x, w, x − lo
    __m256i best_q[4], prev_q[4];
    float t0[32], t1[32], t2[32];
    for (int v = 0; v < nv; v++) {
        X[v] = _mm256_loadu_ps(x + 8 * v);
        W[v] = _mm256_loadu_ps(w + 8 * v);
        XL[v] = _mm256_sub_ps(X[v], _mm256_set1_ps(lo));
        prev_q[v] = _mm256_set1_epi32(-1);  // matches no codes
    }

    float iscale = (float)nmax / (hi - lo);
    float scale = 1 / iscale;
    for (int v = 0; v < nv; v++) {
        best_q[v] = round_clamp(_mm256_mul_ps(_mm256_set1_ps(iscale), XL[v]), vmax);
        __m256 lf = _mm256_cvtepi32_ps(best_q[v]);
        _mm256_storeu_ps(t0 + 8 * v, error_terms(lf, X[v], W[v], _mm256_set1_ps(scale), _mm256_set1_ps(lo), use_mad));
    }
    float best = 0;
    for (int i = 0; i < n; i++) best += t0[i];

    int candidates = sweep->nstep < 1 ? 0 : sweep->nstep + 1;
    for (int k = 0; k < candidates; k++) {
        iscale = (sweep->rmin + sweep->rdelta * (float)k + (float)nmax) / (hi - lo);
        const __m256 vis = _mm256_set1_ps(iscale);
        __m256i q[4];
        int same = 1;
        for (int v = 0; v < nv; v++) {
            q[v] = round_clamp(_mm256_mul_ps(vis, XL[v]), vmax);
            same &= _mm256_movemask_epi8(_mm256_cmpeq_epi32(q[v], prev_q[v])) == -1;
        }
        if (same) continue;  // see the file comment
        for (int v = 0; v < nv; v++) {
            prev_q[v] = q[v];
            __m256 lf = _mm256_cvtepi32_ps(q[v]);
            __m256 wl = _mm256_mul_ps(W[v], lf);
            _mm256_storeu_ps(t0 + 8 * v, wl);
            _mm256_storeu_ps(t1 + 8 * v, _mm256_mul_ps(wl, lf));
            _mm256_storeu_ps(t2 + 8 * v, _mm256_mul_ps(wl, X[v]));
        }
        float sl = 0, sl2 = 0, sxl = 0;
        for (int i = 0; i < n; i++) {
            sl += t0[i];
            sl2 += t1[i];
            sxl += t2[i];
        }
        float det = wsum * sl2 - sl * sl;
        if (!(det > 0)) continue;
        float a = (wsum * sxl - wxsum * sl) / det;
        float b = (sl2 * wxsum - sl * sxl) / det;
        if (b > 0) {
            b = 0;
            a = sxl / sl2;
        }
        for (int v = 0; v < nv; v++) {
            __m256 lf = _mm256_cvtepi32_ps(q[v]);
            _mm256_storeu_ps(t0 + 8 * v, error_terms(lf, X[v], W[v], _mm256_set1_ps(a), _mm256_set1_ps(b), use_mad));
        }
        float err = 0;
        for (int i = 0; i < n; i++) err += t0[i];
        if (err < best) {
            best = err;
            scale = a;
            lo = b;
            for (int v = 0; v < nv; v++) {
                best_q[v] = q[v];
                XL[v] = _mm256_sub_ps(X[v], _mm256_set1_ps(lo));
            }
        }
    }
    store_codes(best_q, nv, L);
    *neg_min = -lo;
    return scale;
}

// MARK: - Final re-rounding (qg_kx_requantize_ref)

QG_AVX2 static void requantize_avx2(int n, int nmax, const float *x, float d, float dm, uint8_t *L) {
    const __m256 vd = _mm256_set1_ps(d), vdm = _mm256_set1_ps(dm);
    const __m256i vmax = _mm256_set1_epi32(nmax);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i q = round_clamp(_mm256_div_ps(_mm256_add_ps(_mm256_loadu_ps(x + i), vdm), vd), vmax);
        store_codes(&q, 1, L + i);
    }
    if (i < n) qg_kx_requantize_ref(n - i, nmax, x + i, d, dm, L + i);
}

static const struct qg_kx_kernels kernels_avx2 = {fit_affine_avx2, requantize_avx2};

void qg_quantize_q2_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_kx_quantize_q2_k_rows(src, (uint8_t *)dst, nrows, n_per_row, imatrix, &kernels_avx2);
}

void qg_quantize_q4_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_kx_quantize_q4_k_rows(src, (uint8_t *)dst, nrows, n_per_row, imatrix, &kernels_avx2);
}

void qg_quantize_q5_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_kx_quantize_q5_k_rows(src, (uint8_t *)dst, nrows, n_per_row, imatrix, &kernels_avx2);
}

// MARK: - Dequantization

/// f16 → f32 of a block's d and dmin (exact, F16C).
QG_AVX2 static inline void load_factors(const uint8_t *p, float *d, float *dmin) {
    uint32_t both;
    memcpy(&both, p, sizeof both);
    __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128((int)both));
    *d = _mm_cvtss_f32(f);
    *dmin = _mm_cvtss_f32(_mm_shuffle_ps(f, f, 1));
}

/// Eight codes (int32 lanes) → step · code − offset, stored to dst.
QG_AVX2 static inline void emit8(__m256i codes, __m256 step, __m256 offset, float *dst) {
    _mm256_storeu_ps(dst, _mm256_sub_ps(_mm256_mul_ps(step, _mm256_cvtepi32_ps(codes)), offset));
}

QG_AVX2 void qg_dequantize_q2_k_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *blk = (const uint8_t *)src;
    const __m256i three = _mm256_set1_epi32(3);
    for (int64_t b = 0; b < n / QG_KX_SUPER; b++, blk += 84, dst += QG_KX_SUPER) {
        float d, dmin;
        load_factors(blk + 80, &d, &dmin);
        const uint8_t *qs = blk + 16;
        for (int j = 0; j < 16; j++) {  // sub-block j: values 16j … 16j + 15
            uint8_t sc = blk[j];
            __m256 step = _mm256_set1_ps(d * (float)(sc & 0x0F));
            __m256 offset = _mm256_set1_ps(dmin * (float)(sc >> 4));
            const uint8_t *q = qs + 32 * (j / 8) + 16 * (j % 2);
            __m128i shift = _mm_cvtsi32_si128(2 * ((j % 8) / 2));
            for (int h = 0; h < 2; h++) {
                __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8 * h)));
                emit8(_mm256_and_si256(_mm256_srl_epi32(bytes, shift), three), step, offset, dst + 16 * j + 8 * h);
            }
        }
    }
}

QG_AVX2 void qg_dequantize_q4_k_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *blk = (const uint8_t *)src;
    const __m256i nibble = _mm256_set1_epi32(0x0F);
    for (int64_t b = 0; b < n / QG_KX_SUPER; b++, blk += 144, dst += QG_KX_SUPER) {
        float d, dmin;
        load_factors(blk, &d, &dmin);
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            qg_kx_scale6(blk + 4, j, &sc, &m);
            __m256 step = _mm256_set1_ps(d * (float)sc), offset = _mm256_set1_ps(dmin * (float)m);
            const uint8_t *q = blk + 16 + 32 * (j / 2);
            __m128i shift = _mm_cvtsi32_si128(4 * (j % 2));
            for (int h = 0; h < 4; h++) {
                __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8 * h)));
                emit8(_mm256_and_si256(_mm256_srl_epi32(bytes, shift), nibble), step, offset, dst + 32 * j + 8 * h);
            }
        }
    }
}

QG_AVX2 void qg_dequantize_q5_k_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *blk = (const uint8_t *)src;
    const __m256i nibble = _mm256_set1_epi32(0x0F), one = _mm256_set1_epi32(1);
    for (int64_t b = 0; b < n / QG_KX_SUPER; b++, blk += 176, dst += QG_KX_SUPER) {
        float d, dmin;
        load_factors(blk, &d, &dmin);
        const uint8_t *qh = blk + 16;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            qg_kx_scale6(blk + 4, j, &sc, &m);
            __m256 step = _mm256_set1_ps(d * (float)sc), offset = _mm256_set1_ps(dmin * (float)m);
            const uint8_t *q = blk + 48 + 32 * (j / 2);
            __m128i shift = _mm_cvtsi32_si128(4 * (j % 2)), hshift = _mm_cvtsi32_si128(j);
            for (int h = 0; h < 4; h++) {
                __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8 * h)));
                __m256i high = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qh + 8 * h)));
                __m256i code = _mm256_or_si256(_mm256_and_si256(_mm256_srl_epi32(bytes, shift), nibble),
                                               _mm256_slli_epi32(_mm256_and_si256(_mm256_srl_epi32(high, hshift), one), 4));
                emit8(code, step, offset, dst + 32 * j + 8 * h);
            }
        }
    }
}

#else  // not x86-64: the AVX2 entry points are the reference

void qg_quantize_q2_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q2_k_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_quantize_q4_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q4_k_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_quantize_q5_k_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_quantize_q5_k_ref(src, dst, nrows, n_per_row, imatrix);
}
void qg_dequantize_q2_k_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q2_k_ref(src, dst, n); }
void qg_dequantize_q4_k_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q4_k_ref(src, dst, n); }
void qg_dequantize_q5_k_avx2(const void *src, float *dst, int64_t n) { qg_dequantize_q5_k_ref(src, dst, n); }

#endif

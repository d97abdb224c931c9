// Scale searches shared by the block quantizers; quants_search.h states what each one computes.
//
// The scalar functions are the definitions and follow ggml's arithmetic operation for operation.
// The AVX2 functions compute the same trials with one trial per vector lane: inside a lane every
// product and running sum happens in the scalar order, so each lane holds exactly the scalar value,
// and the choice between trials is then made by the scalar comparisons. Inputs with NaN or ±Inf go to
// the scalar functions, whose first-match peak/min/max scans do not map onto vector max/min.
#include "quants_search.h"

#include <math.h>

QG_NO_FP_CONTRACT

// MARK: - Symmetric search (make_qx_quants, rmse_type 1)

/// The first value of largest magnitude, or 0 when no |x[i]| exceeds 0; *magnitude gets its |value|.
static float signed_peak(int n, const float *x, float *magnitude) {
    float best = 0.0f, peak = 0.0f;
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > best) {
            best = a;
            peak = x[i];
        }
    }
    *magnitude = best;
    return peak;
}

/// Inverse scale of symmetric trial `step`: step 0 is -nmax/peak, steps ±1…±9 shift nmax by 0.1·step.
static inline float symmetric_trial(int nmax, int step, float peak) {
    return -((float)nmax + 0.1f * (float)step) / peak;
}

/// The trial steps in the order they are tried after step 0.
static const int symmetric_steps[18] = {-9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9};

static inline float weight_or_square(const float *weights, const float *x, int i) {
    return weights ? weights[i] : x[i] * x[i];
}

/// Σ w·x·l and Σ w·l² (first to last) for the levels l that inverse scale `iscale` gives.
static void symmetric_sums(int n, int nmax, const float *x, const float *weights, float iscale, float *sum_xl,
                           float *sum_ll) {
    float xl = 0.0f, ll = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = qg_clamp_int(qg_round_magic(iscale * x[i]), -nmax, nmax - 1);
        float w = weight_or_square(weights, x, i);
        xl += w * x[i] * (float)l;
        ll += w * (float)l * (float)l;
    }
    *sum_xl = xl;
    *sum_ll = ll;
}

float qg_search_symmetric_ref(int n, int nmax, const float *x, const float *weights, int8_t *L) {
    float magnitude;
    float peak = signed_peak(n, x, &magnitude);
    if (magnitude < QG_SEARCH_ZERO_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float chosen = symmetric_trial(nmax, 0, peak);
    float sum_xl, sum_ll;
    symmetric_sums(n, nmax, x, weights, chosen, &sum_xl, &sum_ll);
    float scale = sum_ll != 0.0f ? sum_xl / sum_ll : 0.0f;
    float best = scale * sum_xl;
    for (int t = 0; t < 18; t++) {
        float iscale = symmetric_trial(nmax, symmetric_steps[t], peak);
        symmetric_sums(n, nmax, x, weights, iscale, &sum_xl, &sum_ll);
        if (sum_ll > 0.0f && sum_xl * sum_xl > best * sum_ll) {
            chosen = iscale;
            scale = sum_xl / sum_ll;
            best = scale * sum_xl;
        }
    }
    for (int i = 0; i < n; i++) {
        L[i] = (int8_t)(nmax + qg_clamp_int(qg_round_magic(chosen * x[i]), -nmax, nmax - 1));
    }
    return scale;
}

// MARK: - Symmetric search with coordinate descent (make_q3_quants, do_rmse)

float qg_search_symmetric_descent_ref(int n, int nmax, const float *x, int8_t *L) {
    float magnitude;
    float peak = signed_peak(n, x, &magnitude);
    if (magnitude < QG_SEARCH_ZERO_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    const float iscale = (float)(-nmax) / peak;
    float sum_xl = 0.0f, sum_ll = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = qg_clamp_int(qg_round_magic(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sum_xl += w * x[i] * (float)l;
        sum_ll += w * (float)l * (float)l;
    }
    for (int sweep = 0; sweep < 5; sweep++) {
        int moved = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            // The fit without value i; move it to the level that fit predicts if the total improves.
            float rest_xl = sum_xl - w * x[i] * (float)L[i];
            if (!(rest_xl > 0.0f)) continue;
            float rest_ll = sum_ll - w * (float)L[i] * (float)L[i];
            int l = qg_clamp_int(qg_round_magic(x[i] * rest_ll / rest_xl), -nmax, nmax - 1);
            if (l == L[i]) continue;
            float try_xl = rest_xl + w * x[i] * (float)l;
            float try_ll = rest_ll + w * (float)l * (float)l;
            if (try_ll > 0.0f && try_xl * try_xl * sum_ll > sum_xl * sum_xl * try_ll) {
                L[i] = (int8_t)l;
                sum_xl = try_xl;
                sum_ll = try_ll;
                moved++;
            }
        }
        if (moved == 0) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return sum_ll > 0.0f ? sum_xl / sum_ll : 0.0f;
}

// MARK: - Affine search (make_qkx3_quants: rmin -0.9, rdelta 0.05, 36 steps, squared error)

#define AFFINE_TRIALS 37

/// Inverse scale of affine trial k over the span hi - offset.
static inline float affine_trial(int nmax, int k, float hi, float offset) {
    return (-0.9f + 0.05f * (float)k + (float)nmax) / (hi - offset);
}

float qg_search_affine_ref(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *neg_min) {
    float lo = x[0], hi = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sum_w += weights[i];
        sum_x += weights[i] * x[i];
    }
    if (lo > 0.0f) lo = 0.0f;
    if (hi <= lo) {
        memset(L, 0, (size_t)n);
        *neg_min = -lo;
        return 0.0f;
    }
    // Plain min-max rounding is the trial to beat.
    const float iscale0 = (float)nmax / (hi - lo);
    float scale = 1.0f / iscale0;
    float offset = lo;
    float best_err = 0.0f;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)qg_clamp_int(qg_round_magic(iscale0 * (x[i] - lo)), 0, nmax);
        float diff = scale * (float)L[i] + lo - x[i];
        best_err += weights[i] * (diff * diff);
    }
    uint8_t levels[256];
    for (int k = 0; k < AFFINE_TRIALS; k++) {
        // Later trials measure from the offset of the last accepted one, as ggml's loop does.
        float iscale = affine_trial(nmax, k, hi, offset);
        float sum_l = 0.0f, sum_ll = 0.0f, sum_xl = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = qg_clamp_int(qg_round_magic(iscale * (x[i] - offset)), 0, nmax);
            levels[i] = (uint8_t)l;
            float wl = weights[i] * (float)l;
            sum_l += wl;
            sum_ll += wl * (float)l;
            sum_xl += wl * x[i];
        }
        float det = sum_w * sum_ll - sum_l * sum_l;
        if (!(det > 0.0f)) continue;
        float fit_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float fit_min = (sum_ll * sum_x - sum_l * sum_xl) / det;
        if (fit_min > 0.0f) {
            fit_min = 0.0f;
            fit_scale = sum_xl / sum_ll;
        }
        float err = 0.0f;
        for (int i = 0; i < n; i++) {
            float diff = fit_scale * (float)levels[i] + fit_min - x[i];
            err += weights[i] * (diff * diff);
        }
        if (err < best_err) {
            memcpy(L, levels, (size_t)n);
            best_err = err;
            scale = fit_scale;
            offset = fit_min;
        }
    }
    *neg_min = -offset;
    return scale;
}

// MARK: - AVX2

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#define QG_AVX2 __attribute__((target("avx2,f16c,fma")))

QG_AVX2 int qg_all_finite_avx2(const float *x, int64_t n) {
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256i inf = _mm256_set1_epi32(0x7F800000);
    __m256i bad = _mm256_setzero_si256();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i)), abs_mask);
        bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(a, _mm256_sub_epi32(inf, _mm256_set1_epi32(1))));
    }
    if (!_mm256_testz_si256(bad, bad)) return 0;
    for (; i < n; i++) {
        if (!isfinite(x[i])) return 0;
    }
    return 1;
}

/// ggml's magic-number rounding, lane by lane.
QG_AVX2 static inline __m256i round_magic8(__m256 v) {
    __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)));
    return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x00400000));
}

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

/// Index of the first x[i] equal (==) to `target`, over n (a multiple of 8) finite values; -1 if none.
QG_AVX2 static inline int first_equal(int n, const float *x, float target) {
    __m256 t = _mm256_set1_ps(target);
    for (int i = 0; i < n; i += 8) {
        int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), t, _CMP_EQ_OQ));
        if (m) return i + __builtin_ctz((unsigned)m);
    }
    return -1;
}

/// Index of the first |x[i]| equal to `target`.
QG_AVX2 static inline int first_abs_equal(int n, const float *x, float target) {
    __m256 t = _mm256_set1_ps(target);
    __m256 sign = _mm256_set1_ps(-0.0f);
    for (int i = 0; i < n; i += 8) {
        __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i));
        int m = _mm256_movemask_ps(_mm256_cmp_ps(a, t, _CMP_EQ_OQ));
        if (m) return i + __builtin_ctz((unsigned)m);
    }
    return -1;
}

/// signed_peak for n (a multiple of 8) finite values: the largest magnitude by vector max (exact for
/// non-NaN values), then the first value that has it.
QG_AVX2 static float signed_peak_avx2(int n, const float *x, float *magnitude) {
    __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) acc = _mm256_max_ps(acc, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    float best = hmax8(acc);
    *magnitude = best;
    if (!(best > 0.0f)) return 0.0f;
    return x[first_abs_equal(n, x, best)];
}

/// Writes eight int32 lanes holding values in [-128, 127] as eight bytes.
QG_AVX2 static inline void store_bytes8(void *dst, __m256i v) {
    __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)dst, _mm_packs_epi16(w16, w16));
}

#define SYM_LANES 24  // step 0, the 18 shifted steps, and five unused lanes (repeats of step 0)

QG_AVX2 float qg_search_symmetric_avx2(int n, int nmax, const float *x, const float *weights, int8_t *L) {
    if ((n & 7) != 0 || !qg_all_finite_avx2(x, n)) return qg_search_symmetric_ref(n, nmax, x, weights, L);
    float magnitude;
    float peak = signed_peak_avx2(n, x, &magnitude);
    if (magnitude < QG_SEARCH_ZERO_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscales[SYM_LANES];
    iscales[0] = symmetric_trial(nmax, 0, peak);
    for (int t = 0; t < 18; t++) iscales[1 + t] = symmetric_trial(nmax, symmetric_steps[t], peak);
    for (int t = 19; t < SYM_LANES; t++) iscales[t] = iscales[0];

    __m256 isc[3], sum_xl[3], sum_ll[3];
    for (int v = 0; v < 3; v++) {
        isc[v] = _mm256_loadu_ps(iscales + 8 * v);
        sum_xl[v] = _mm256_setzero_ps();
        sum_ll[v] = _mm256_setzero_ps();
    }
    const __m256i lo = _mm256_set1_epi32(-nmax), hi = _mm256_set1_epi32(nmax - 1);
    for (int i = 0; i < n; i++) {
        float w = weight_or_square(weights, x, i);
        __m256 vx = _mm256_set1_ps(x[i]);
        __m256 vw = _mm256_set1_ps(w);
        __m256 vwx = _mm256_set1_ps(w * x[i]);
        for (int v = 0; v < 3; v++) {
            __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, round_magic8(_mm256_mul_ps(isc[v], vx))));
            __m256 lf = _mm256_cvtepi32_ps(l);
            sum_xl[v] = _mm256_add_ps(sum_xl[v], _mm256_mul_ps(vwx, lf));
            sum_ll[v] = _mm256_add_ps(sum_ll[v], _mm256_mul_ps(_mm256_mul_ps(vw, lf), lf));
        }
    }
    float xl[SYM_LANES], ll[SYM_LANES];
    for (int v = 0; v < 3; v++) {
        _mm256_storeu_ps(xl + 8 * v, sum_xl[v]);
        _mm256_storeu_ps(ll + 8 * v, sum_ll[v]);
    }
    float chosen = iscales[0];
    float scale = ll[0] != 0.0f ? xl[0] / ll[0] : 0.0f;
    float best = scale * xl[0];
    for (int t = 1; t <= 18; t++) {
        if (ll[t] > 0.0f && xl[t] * xl[t] > best * ll[t]) {
            chosen = iscales[t];
            scale = xl[t] / ll[t];
            best = scale * xl[t];
        }
    }
    const __m256 vc = _mm256_set1_ps(chosen);
    const __m256i off = _mm256_set1_epi32(nmax);
    for (int i = 0; i < n; i += 8) {
        __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, round_magic8(_mm256_mul_ps(vc, _mm256_loadu_ps(x + i)))));
        store_bytes8(L + i, _mm256_add_epi32(l, off));
    }
    return scale;
}

/// Sixteen independent descent searches (qg_search_symmetric_descent_ref with n = 16): group g in lane
/// g mod 8 of lane set g / 8. Each lane runs the scalar sequence of its own group; the sweeps' branches
/// become per-lane masks, and a lane whose sweep moved nothing is frozen, as the scalar loop stops there.
/// The two lane sets interleave so that one's dependency chain fills the other's latency.
QG_AVX2 void qg_search_symmetric_descent16_avx2(int nmax, const float *x, int8_t *L, float *scales) {
    enum { N = 16 };
    if (!qg_all_finite_avx2(x, 16 * N)) {
        for (int g = 0; g < 16; g++) scales[g] = qg_search_symmetric_descent_ref(N, nmax, x + N * g, L + N * g);
        return;
    }
    const __m256i gather = _mm256_setr_epi32(0, N, 2 * N, 3 * N, 4 * N, 5 * N, 6 * N, 7 * N);
    const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
    const __m256i lo = _mm256_set1_epi32(-nmax), hi = _mm256_set1_epi32(nmax - 1), ones = _mm256_set1_epi32(-1);
    __m256 X[2][N], W[2][N], WX[2][N], Lf[2][N];
    __m256 live[2], sum_xl[2], sum_ll[2], active[2];
    for (int h = 0; h < 2; h++) {
        __m256 amax = zero, peak = zero;
        for (int i = 0; i < N; i++) {
            X[h][i] = _mm256_i32gather_ps(x + 8 * N * h + i, gather, 4);
            W[h][i] = _mm256_mul_ps(X[h][i], X[h][i]);
            WX[h][i] = _mm256_mul_ps(W[h][i], X[h][i]);
            __m256 a = _mm256_andnot_ps(sign, X[h][i]);
            __m256 bigger = _mm256_cmp_ps(a, amax, _CMP_GT_OQ);
            amax = _mm256_blendv_ps(amax, a, bigger);
            peak = _mm256_blendv_ps(peak, X[h][i], bigger);
        }
        // Lanes whose group is all (near) zero take no part: scale 0, levels 0.
        live[h] = _mm256_cmp_ps(amax, _mm256_set1_ps(QG_SEARCH_ZERO_EPS), _CMP_GE_OQ);
        const __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)(-nmax)), peak);
        sum_xl[h] = sum_ll[h] = zero;
        for (int i = 0; i < N; i++) {
            __m256i l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, round_magic8(_mm256_mul_ps(iscale, X[h][i]))));
            Lf[h][i] = _mm256_cvtepi32_ps(l);
            sum_xl[h] = _mm256_add_ps(sum_xl[h], _mm256_mul_ps(WX[h][i], Lf[h][i]));
            sum_ll[h] = _mm256_add_ps(sum_ll[h], _mm256_mul_ps(_mm256_mul_ps(W[h][i], Lf[h][i]), Lf[h][i]));
        }
        active[h] = live[h];
    }
    for (int sweep = 0; sweep < 5 && _mm256_movemask_ps(_mm256_or_ps(active[0], active[1])); sweep++) {
        __m256 moved[2] = {zero, zero};
        for (int i = 0; i < N; i++) {
            for (int h = 0; h < 2; h++) {
                __m256 rest_xl = _mm256_sub_ps(sum_xl[h], _mm256_mul_ps(WX[h][i], Lf[h][i]));
                __m256 rest_ll = _mm256_sub_ps(sum_ll[h], _mm256_mul_ps(_mm256_mul_ps(W[h][i], Lf[h][i]), Lf[h][i]));
                __m256i l = round_magic8(_mm256_div_ps(_mm256_mul_ps(X[h][i], rest_ll), rest_xl));
                l = _mm256_max_epi32(lo, _mm256_min_epi32(hi, l));
                __m256 lf = _mm256_cvtepi32_ps(l);
                __m256 try_xl = _mm256_add_ps(rest_xl, _mm256_mul_ps(WX[h][i], lf));
                __m256 try_ll = _mm256_add_ps(rest_ll, _mm256_mul_ps(_mm256_mul_ps(W[h][i], lf), lf));
                __m256 better = _mm256_cmp_ps(_mm256_mul_ps(_mm256_mul_ps(try_xl, try_xl), sum_ll[h]),
                                              _mm256_mul_ps(_mm256_mul_ps(sum_xl[h], sum_xl[h]), try_ll), _CMP_GT_OQ);
                __m256 differs = _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpeq_epi32(l, _mm256_cvtps_epi32(Lf[h][i])), ones));
                __m256 take = _mm256_and_ps(active[h], _mm256_cmp_ps(rest_xl, zero, _CMP_GT_OQ));
                take = _mm256_and_ps(_mm256_and_ps(take, differs), _mm256_and_ps(_mm256_cmp_ps(try_ll, zero, _CMP_GT_OQ), better));
                Lf[h][i] = _mm256_blendv_ps(Lf[h][i], lf, take);
                sum_xl[h] = _mm256_blendv_ps(sum_xl[h], try_xl, take);
                sum_ll[h] = _mm256_blendv_ps(sum_ll[h], try_ll, take);
                moved[h] = _mm256_or_ps(moved[h], take);
            }
        }
        active[0] = _mm256_and_ps(active[0], moved[0]);
        active[1] = _mm256_and_ps(active[1], moved[1]);
    }
    const __m256i off = _mm256_set1_epi32(nmax);
    for (int h = 0; h < 2; h++) {
        __m256 scale = _mm256_and_ps(_mm256_cmp_ps(sum_ll[h], zero, _CMP_GT_OQ), _mm256_div_ps(sum_xl[h], sum_ll[h]));
        _mm256_storeu_ps(scales + 8 * h, _mm256_and_ps(scale, live[h]));
        int32_t lv[N][8];
        for (int i = 0; i < N; i++) {
            __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(Lf[h][i]), off);
            _mm256_storeu_si256((__m256i *)lv[i], _mm256_and_si256(v, _mm256_castps_si256(live[h])));
        }
        for (int g = 0; g < 8; g++) {
            for (int i = 0; i < N; i++) L[N * (8 * h + g) + i] = (int8_t)lv[i][g];
        }
    }
}

/// Results of a window of 8 consecutive affine trials, one per lane.
struct affine_window {
    float det[8], scale[8], min[8], err[8];
    float levels[32][8];  // level of value i in lane j (n ≤ 32)
};

/// Evaluates 8 trials (inverse scales `iscales`, values measured from `offset`): levels, weighted
/// least-squares fit (offset clamped to ≤ 0, then the scale refitted alone) and weighted squared error,
/// each lane in the scalar order. With `plain`, lane 0 instead keeps scale `plain_scale` and offset
/// `offset` (the min-max trial, which fits nothing).
QG_AVX2 static void affine_window_eval(int n, int nmax, const float *x, const float *weights, float offset,
                                       const float *iscales, float sum_w, float sum_x, int plain, float plain_scale,
                                       struct affine_window *out) {
    const __m256i zero = _mm256_setzero_si256(), top = _mm256_set1_epi32(nmax);
    const __m256 isc = _mm256_loadu_ps(iscales);
    __m256 s_l = _mm256_setzero_ps(), s_ll = s_l, s_xl = s_l;
    for (int i = 0; i < n; i++) {
        const __m256 vw = _mm256_set1_ps(weights[i]);
        __m256i l = round_magic8(_mm256_mul_ps(isc, _mm256_set1_ps(x[i] - offset)));
        __m256 lf = _mm256_cvtepi32_ps(_mm256_max_epi32(zero, _mm256_min_epi32(top, l)));
        _mm256_storeu_ps(out->levels[i], lf);
        __m256 wl = _mm256_mul_ps(vw, lf);
        s_l = _mm256_add_ps(s_l, wl);
        s_ll = _mm256_add_ps(s_ll, _mm256_mul_ps(wl, lf));
        s_xl = _mm256_add_ps(s_xl, _mm256_mul_ps(wl, _mm256_set1_ps(x[i])));
    }
    const __m256 sw = _mm256_set1_ps(sum_w), sx = _mm256_set1_ps(sum_x), vzero = _mm256_setzero_ps();
    __m256 det = _mm256_sub_ps(_mm256_mul_ps(sw, s_ll), _mm256_mul_ps(s_l, s_l));
    __m256 fs = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sw, s_xl), _mm256_mul_ps(sx, s_l)), det);
    __m256 fm = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(s_ll, sx), _mm256_mul_ps(s_l, s_xl)), det);
    __m256 clamp = _mm256_cmp_ps(fm, vzero, _CMP_GT_OQ);
    fm = _mm256_blendv_ps(fm, vzero, clamp);
    fs = _mm256_blendv_ps(fs, _mm256_div_ps(s_xl, s_ll), clamp);
    if (plain) {
        const __m256 first = _mm256_castsi256_ps(_mm256_setr_epi32(-1, 0, 0, 0, 0, 0, 0, 0));
        fs = _mm256_blendv_ps(fs, _mm256_set1_ps(plain_scale), first);
        fm = _mm256_blendv_ps(fm, _mm256_set1_ps(offset), first);
    }
    __m256 err = vzero;
    for (int i = 0; i < n; i++) {
        __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(fs, _mm256_loadu_ps(out->levels[i])), fm), _mm256_set1_ps(x[i]));
        err = _mm256_add_ps(err, _mm256_mul_ps(_mm256_set1_ps(weights[i]), _mm256_mul_ps(diff, diff)));
    }
    _mm256_storeu_ps(out->det, det);
    _mm256_storeu_ps(out->scale, fs);
    _mm256_storeu_ps(out->min, fm);
    _mm256_storeu_ps(out->err, err);
}

/// The trials are decided in order over windows of 8. Accepting a trial that moves the offset changes
/// how every later trial rounds, so the next window then starts right after it, from the new offset.
QG_AVX2 float qg_search_affine_avx2(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *neg_min) {
    if ((n & 7) != 0 || n > 32 || !qg_all_finite_avx2(x, n)) return qg_search_affine_ref(n, nmax, x, weights, L, neg_min);
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    __m256 vlo = _mm256_loadu_ps(x), vhi = vlo;
    for (int i = 1; i < n; i++) {
        sum_w += weights[i];
        sum_x += weights[i] * x[i];
    }
    for (int i = 8; i < n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        vlo = _mm256_min_ps(vlo, v);
        vhi = _mm256_max_ps(vhi, v);
    }
    // The first value equal to the extreme, so that a zero keeps the sign the scalar scan sees.
    float lo = x[first_equal(n, x, hmin8(vlo))];
    float hi = x[first_equal(n, x, hmax8(vhi))];
    if (lo > 0.0f) lo = 0.0f;
    if (hi <= lo) {
        memset(L, 0, (size_t)n);
        *neg_min = -lo;
        return 0.0f;
    }
    const float iscale0 = (float)nmax / (hi - lo);
    float scale = 1.0f / iscale0;
    float offset = lo;
    float best_err = 0.0f;

    struct affine_window win;
    float iscales[8];
    int next = 0;  // first trial not yet decided
    int plain = 1;  // the first window carries the min-max trial in lane 0
    while (next < AFFINE_TRIALS) {
        const int base = next - plain;  // trial of lane j is base + j
        for (int j = 0; j < 8; j++) {
            int t = base + j < AFFINE_TRIALS ? base + j : AFFINE_TRIALS - 1;
            iscales[j] = affine_trial(nmax, t, hi, offset);
        }
        if (plain) iscales[0] = iscale0;
        affine_window_eval(n, nmax, x, weights, offset, iscales, sum_w, sum_x, plain, scale, &win);
        if (plain) {
            best_err = win.err[0];
            for (int i = 0; i < n; i++) L[i] = (uint8_t)(int)win.levels[i][0];
        }
        int j = plain;
        plain = 0;
        for (; j < 8 && base + j < AFFINE_TRIALS; j++) {
            if (!(win.det[j] > 0.0f) || !(win.err[j] < best_err)) continue;
            best_err = win.err[j];
            scale = win.scale[j];
            const float moved = win.min[j];
            const int shifted = moved != offset;  // an equal value (±0) rounds every value alike
            offset = moved;
            for (int i = 0; i < n; i++) L[i] = (uint8_t)(int)win.levels[i][j];
            if (shifted) {
                j++;
                break;
            }
        }
        next = base + j;
    }
    *neg_min = -offset;
    return scale;
}

#endif

// Reference searches of the k-quants with per-sub-block minima (Q2_K, Q4_K, Q5_K); see quants_kx_search.h.
// All arithmetic is f32 in the order ggml uses, so the results are bit-identical to ggml's.
#include "quants_kx_search.h"

#include <math.h>

// MARK: - Affine sub-block search

/// Rounds t = iscale · (x_i − lo) for every value, clamped to [0, nmax].
static void code_values(int n, int nmax, const float *x, float lo, float iscale, uint8_t *L) {
    for (int i = 0; i < n; i++) {
        int q = qg_kx_round(iscale * (x[i] - lo));
        q = q < nmax ? q : nmax;
        L[i] = (uint8_t)(q > 0 ? q : 0);
    }
}

/// Weighted error Σ w_i · e(scale · L_i + lo − x_i), summed in index order, e = |·| or (·)².
static float code_error(int n, const float *x, const float *w, const uint8_t *L, float scale, float lo, int use_mad) {
    float err = 0;
    for (int i = 0; i < n; i++) {
        float r = scale * (float)L[i] + lo - x[i];
        r = use_mad ? fabsf(r) : r * r;
        err += w[i] * r;
    }
    return err;
}

/// The affine search (ggml's make_qkx2_quants, and make_qkx3_quants with explicit weights; the two agree
/// whenever weights are given).
///
///  1. Range: lo = min(0, min x), hi = max x; the weighted totals Σw and Σw·x are accumulated on the way.
///     A constant block (hi = lo) gets codes 0, scale 0 and offset lo.
///  2. First guess: codes from the plain range mapping nmax / (hi − lo), scale its inverse, offset lo;
///     its weighted error is the one to beat.
///  3. Sweep: for each candidate k the codes are re-rounded with (nmax + rmin + rdelta · k) / (hi − lo);
///     for those codes the weighted least-squares line x ≈ a · L + b is solved in closed form
///     (normal equations; b > 0 is not allowed, then b = 0 and a = ΣwLx / ΣwL²). If its weighted error
///     is strictly lower, codes, scale and offset are replaced. A replaced offset moves `lo` and so the
///     range of every later candidate, as in ggml.
float qg_kx_fit_affine_ref(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min,
                           const struct qg_kx_sweep *sweep) {
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

    float iscale = (float)nmax / (hi - lo);
    float scale = 1 / iscale;
    code_values(n, nmax, x, lo, iscale, L);
    float best = code_error(n, x, w, L, scale, lo, sweep->use_mad);

    uint8_t trial[QG_KX_SUPER];
    int candidates = sweep->nstep < 1 ? 0 : sweep->nstep + 1;  // nstep < 1: the first guess stands
    for (int k = 0; k < candidates; k++) {
        iscale = (sweep->rmin + sweep->rdelta * (float)k + (float)nmax) / (hi - lo);
        code_values(n, nmax, x, lo, iscale, trial);
        float sl = 0, sl2 = 0, sxl = 0;
        for (int i = 0; i < n; i++) {
            float wl = w[i] * (float)trial[i];
            sl += wl;
            sl2 += wl * (float)trial[i];
            sxl += wl * x[i];
        }
        float det = wsum * sl2 - sl * sl;
        if (!(det > 0)) continue;
        float a = (wsum * sxl - wxsum * sl) / det;
        float b = (sl2 * wxsum - sl * sxl) / det;
        if (b > 0) {
            b = 0;
            a = sxl / sl2;
        }
        float err = code_error(n, x, w, trial, a, b, sweep->use_mad);
        if (err < best) {
            memcpy(L, trial, (size_t)n);
            best = err;
            scale = a;
            lo = b;
        }
    }
    *neg_min = -lo;
    return scale;
}

void qg_kx_requantize_ref(int n, int nmax, const float *x, float d, float dm, uint8_t *L) {
    for (int i = 0; i < n; i++) {
        int q = qg_kx_round((x[i] + dm) / d);
        q = q < nmax ? q : nmax;
        L[i] = (uint8_t)(q > 0 ? q : 0);
    }
}

const struct qg_kx_kernels qg_kx_kernels_ref = {qg_kx_fit_affine_ref, qg_kx_requantize_ref};

// MARK: - Super-block factor search (importance-matrix path)

/// Weighted squared error Σ w_j (v_j − step · c_j)² of the codes c_j = min(round(inv · v_j), nmax).
/// The codes are kept as ints here (negative ones included), as ggml does in this trial.
static float trial_error(int n, int nmax, const float *v, const float *w, float inv) {
    float step = 1 / inv;
    float err = 0;
    for (int j = 0; j < n; j++) {
        int c = qg_kx_round(inv * v[j]);
        c = c < nmax ? c : nmax;
        float r = v[j] - step * (float)c;
        err += w[j] * r * r;
    }
    return err;
}

/// ggml's make_qp_quants:
///  1. top = max(0, max v); below 1e-15 everything is zero.
///  2. inv = nmax / top; its error (codes unclamped above, stored as bytes) is the one to beat; the
///     eight neighbours (nmax + 0.1 · k) / top, k = ±1…±4, replace it when strictly better.
///  3. Codes c_j = min(round(inv · v_j), nmax) with Σw·v·c and Σw·c² (from the int codes); then up to
///     five coordinate-descent passes: each code is moved to the value that is optimal with the others
///     fixed, kept when it raises (Σwvc)² / Σwc² — i.e. lowers the error of the optimal step.
///  4. The step is Σwvc / Σwc² (0 when Σwc² is not positive).
/// Codes are bytes throughout: a negative code wraps, exactly as in ggml.
float qg_kx_fit_scales(int n, int nmax, const float *v, const float *w, uint8_t *codes) {
    float top = 0;
    for (int j = 0; j < n; j++) top = top > v[j] ? top : v[j];
    if (top < 1e-15f) {
        memset(codes, 0, (size_t)n);
        return 0.0f;
    }

    float inv = (float)nmax / top;
    for (int j = 0; j < n; j++) codes[j] = (uint8_t)qg_kx_round(inv * v[j]);
    float step = 1 / inv;
    float best = 0;
    for (int j = 0; j < n; j++) {
        float r = v[j] - step * (float)codes[j];
        best += w[j] * r * r;
    }
    for (int k = -4; k <= 4; k++) {
        if (k == 0) continue;
        float inv_k = (0.1f * (float)k + (float)nmax) / top;
        float err = trial_error(n, nmax, v, w, inv_k);
        if (err < best) {
            best = err;
            inv = inv_k;
        }
    }

    float svc = 0, sc2 = 0;
    for (int j = 0; j < n; j++) {
        int c = qg_kx_round(inv * v[j]);
        c = c < nmax ? c : nmax;
        codes[j] = (uint8_t)c;
        svc += w[j] * v[j] * (float)c;
        sc2 += w[j] * (float)c * (float)c;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int j = 0; j < n; j++) {
            float cj = (float)codes[j];
            float svc_rest = svc - w[j] * v[j] * cj;
            float sc2_rest = sc2 - w[j] * cj * cj;
            if (!(svc_rest > 0 && sc2_rest > 0)) continue;
            int c = qg_kx_round(v[j] * sc2_rest / svc_rest);
            c = c < nmax ? c : nmax;
            if (c == codes[j]) continue;
            float svc_new = svc_rest + w[j] * v[j] * (float)c;
            float sc2_new = sc2_rest + w[j] * (float)c * (float)c;
            if (svc_new * svc_new * sc2 > svc * svc * sc2_new) {
                codes[j] = (uint8_t)c;
                svc = svc_new;
                sc2 = sc2_new;
                changed++;
            }
        }
        if (!changed) break;
    }
    return sc2 > 0.0f ? svc / sc2 : 0.0f;
}

// MARK: - 6-bit code packing

void qg_kx_pack_scales6(const uint8_t *ls, const uint8_t *lm, uint8_t *out) {
    for (int j = 0; j < 4; j++) {
        out[j] = (uint8_t)(ls[j] | ((ls[j + 4] >> 4) << 6));
        out[j + 4] = (uint8_t)(lm[j] | ((lm[j + 4] >> 4) << 6));
        out[j + 8] = (uint8_t)((ls[j + 4] & 0x0F) | ((lm[j + 4] & 0x0F) << 4));
    }
}

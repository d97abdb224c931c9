#include "qg_awq.h"

#include <math.h>

// Every product and sum rounds on its own, on every architecture (no fused multiply-add contraction), so the
// clip search chooses the same bounds on x86-64 and arm64.
#pragma STDC FP_CONTRACT OFF

// AutoAWQ's grid for one group of n values.
static void awq_fit(const float *x, int64_t n, float *scale, float *zero) {
    float lo = x[0], hi = x[0];
    for (int64_t i = 1; i < n; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    const float s = fmaxf(hi - lo, 1e-5f) / 15.0f;
    float z = -rintf(lo / s);
    z = z < 0 ? 0 : (z > 15 ? 15 : z);
    *scale = s;
    *zero = z;
}

// Round half to even, exactly as rintf in the default rounding mode for |v| <= 2^22 (adding 1.5 * 2^23 leaves
// no fraction bits), written without a libm call so that the loops below vectorize.
static inline float awq_round(float v) {
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

// The code of x: clamp(round(x / s) + z, 0, 15). Quotients beyond ±64 are clamped first, which changes no
// code (z is in 0...15) and keeps the rounding exact.
static inline float awq_code(float x, float s, float z) {
    float v = x / s;
    v = v < -64.0f ? -64.0f : (v > 64.0f ? 64.0f : v);
    const float q = awq_round(v) + z;
    return !(q > 0) ? 0 : (q > 15 ? 15 : q);  // NaN (never from finite weights) maps to 0, not to undefined behaviour
}

void qg_awq_fake_quantize(const float *w, int64_t rows, int64_t cols, int64_t group, const float *column_scale,
                          float *out) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = w + r * cols;
        float *dst = out + r * cols;
        if (column_scale) {
            for (int64_t c = 0; c < cols; c++) dst[c] = row[c] * column_scale[c];
        } else {
            for (int64_t c = 0; c < cols; c++) dst[c] = row[c];
        }
        for (int64_t g0 = 0; g0 < cols; g0 += group) {
            float s, z;
            awq_fit(dst + g0, group, &s, &z);
            for (int64_t c = g0; c < g0 + group; c++) dst[c] = (awq_code(dst[c], s, z) - z) * s;
        }
        if (column_scale) {
            for (int64_t c = 0; c < cols; c++) dst[c] = dst[c] / column_scale[c];
        }
    }
}

void qg_awq_quantize(const float *w, int64_t rows, int64_t cols, int64_t group, uint8_t *codes, float *scale,
                     float *zero) {
    const int64_t groups = cols / group;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t g = 0; g < groups; g++) {
            const float *x = w + r * cols + g * group;
            float s, z;
            awq_fit(x, group, &s, &z);
            scale[r * groups + g] = s;
            zero[r * groups + g] = z;
            for (int64_t c = 0; c < group; c++) codes[r * cols + g * group + c] = (uint8_t)awq_code(x[c], s, z);
        }
    }
}

void qg_awq_clip_search(const float *w, int64_t rows, int64_t cols, int64_t group, const float *gram, int32_t steps,
                        int32_t grid, float *best) {
    const int64_t groups = cols / group;
    float clamped[group], d[group], gd[group];
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t g = 0; g < groups; g++) {
            const float *x = w + r * cols + g * group;
            const float *gg = gram + g * group * group;
            float amax = 0;
            for (int64_t c = 0; c < group; c++) {
                const float a = fabsf(x[c]);
                amax = a > amax ? a : amax;
            }
            float min_err = 1e9f, chosen = amax;
            for (int32_t i = 0; i < steps; i++) {
                const float bound = amax * (float)(1.0 - (double)i / (double)grid);
                for (int64_t c = 0; c < group; c++) {
                    const float v = x[c] < -bound ? -bound : x[c];
                    clamped[c] = v > bound ? bound : v;
                }
                float s, z;
                awq_fit(clamped, group, &s, &z);
                for (int64_t c = 0; c < group; c++) {
                    d[c] = (awq_code(clamped[c], s, z) - z) * s - x[c];
                    gd[c] = 0;
                }
                // G d as a sum of G's rows (each output element its own accumulator), then d . (G d).
                for (int64_t a = 0; a < group; a++) {
                    const float da = d[a];
                    const float *grow = gg + a * group;
                    for (int64_t c = 0; c < group; c++) gd[c] += da * grow[c];
                }
                float err = 0;
                for (int64_t c = 0; c < group; c++) err += d[c] * gd[c];
                if (err < min_err) {
                    min_err = err;
                    chosen = bound;
                }
            }
            best[r * groups + g] = chosen;
        }
    }
}

// Scalar reference quantizers for ggml's 32-value block types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0.
//
// Block layouts (bytes, f16 fields in native order):
//   Q4_0  d:f16 | qs[16]              value j = (nibble j − 8)·d; nibble j is the low half of qs[j] for
//                                     j < 16 and the high half of qs[j−16] otherwise
//   Q4_1  d:f16 m:f16 | qs[16]        value j = nibble j·d + m
//   Q5_0  d:f16 | qh:u32 | qs[16]     5-bit level = nibble | bit j of qh << 4; value = (level − 16)·d
//   Q5_1  d:f16 m:f16 | qh:u32 | qs[16]  value = level·d + m
//   Q8_0  d:f16 | qs[32] (int8)       value j = qs[j]·d
//
// Without an importance matrix each block is quantized on its own (ggml's quantize_row_*_ref):
//  - symmetric types take the first value p of largest magnitude and set d = p / −2^(bits−1), so p maps to
//    the most negative level exactly; levels are trunc(x/d + 2^(bits−1) + 0.5), capped at the top level;
//  - affine types span [min, max] with d = (max − min)/(2^bits − 1) and levels trunc((x − min)/d + 0.5);
//  - Q8_0 uses d = max|x|/127 and rounds half away from zero.
// With an importance matrix (not Q8_0), the row's mean square σ² weights value j of each block by
// imatrix[j]·sqrt(σ² + x_j²) and a weighted least-squares search picks the scale (symmetric types) or the
// scale and minimum (affine types); see quants_search.h.
#include "quants_internal.h"
#include "quants_search.h"

#include <float.h>
#include <math.h>

QG_NO_FP_CONTRACT

enum { QK = 32 };

/// x86-style float → int32 truncation, keeping the low byte as a signed value (ggml's `(int8_t)f`).
static inline int low_byte_signed(float v) { return (int8_t)(uint8_t)((uint32_t)qg_trunc_i32(v) & 0xFFu); }

/// Packs 32 levels into 16 bytes: level j in the low nibble of byte j, level j+16 in the high nibble.
/// Only each level's low four bits are kept (the Q5 types).
static void pack_nibbles(const uint8_t *levels, uint8_t *qs) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)((levels[j] & 0x0F) | ((levels[j + 16] & 0x0F) << 4));
}

/// The Q4 types' packing: byte j = level j | level j+16 << 4, unmasked as ggml writes it. Q4 levels
/// stay within 0…15 for the inputs examined, where this equals pack_nibbles; it is kept literal so that
/// any level the truncating conversion could give packs exactly as in ggml.
static void pack_nibbles_or(const uint8_t *levels, uint8_t *qs) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)(levels[j] | (levels[j + 16] << 4));
}

/// Bit 4 of each of 32 levels, level j in bit j.
static uint32_t fifth_bits(const uint8_t *levels) {
    uint32_t qh = 0;
    for (int j = 0; j < QK; j++) qh |= (uint32_t)((levels[j] >> 4) & 1u) << j;
    return qh;
}

/// Σ x² over the row, first to last, divided by the row length: the σ² of the importance weights.
static float row_mean_square(const float *x, int64_t n) {
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) sum += x[j] * x[j];
    return sum / (float)n;
}

static void importance_weights(const float *x, const float *imatrix, float sigma2, float *w) {
    for (int j = 0; j < QK; j++) w[j] = imatrix[j] * sqrtf(sigma2 + x[j] * x[j]);
}

// MARK: - Symmetric blocks (Q4_0, Q5_0) without weights

/// d and levels of a symmetric block with 2^bits levels: p is the first value of largest magnitude,
/// d = p / −2^(bits−1); level = min(top, trunc(x/d + 2^(bits−1) + 0.5)).
static float symmetric_block(const float *x, int bits, uint8_t *levels) {
    float amax = 0.0f, peak = 0.0f;
    for (int j = 0; j < QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            peak = x[j];
        }
    }
    const float half = (float)(1 << (bits - 1));
    const float d = peak / -half;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const int top = (1 << bits) - 1;
    for (int j = 0; j < QK; j++) {
        int l = low_byte_signed(x[j] * id + (half + 0.5f));
        levels[j] = (uint8_t)(l < top ? l : top);
    }
    return d;
}

// MARK: - Affine blocks (Q4_1, Q5_1) without weights

/// d, min and levels of an affine block: d = (max − min)/(2^bits − 1), level = trunc((x − min)/d + 0.5),
/// capped at 15 for four bits (five-bit levels are not capped, as in ggml).
static float affine_block(const float *x, int bits, float *min_out, uint8_t *levels) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < QK; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    const float d = (hi - lo) / (float)((1 << bits) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < QK; j++) {
        int l = low_byte_signed((x[j] - lo) * id + 0.5f);
        if (bits == 4 && l > 15) l = 15;
        levels[j] = (uint8_t)l;
    }
    *min_out = lo;
    return d;
}

// MARK: - Q4_0

static void q4_0_block_plain(const float *x, uint8_t *y) {
    uint8_t levels[QK];
    qg_put_half(y, symmetric_block(x, 4, levels));
    pack_nibbles_or(levels, y + 2);
}

void qg_quantize_q4_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 18) q4_0_block_plain(x + b * QK, y);
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 18) {
            float w[QK];
            int8_t L[QK];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            qg_put_half(y, qg_search_symmetric_ref(QK, 8, x + b * QK, w, L));
            pack_nibbles_or((const uint8_t *)L, y + 2);
        }
    }
}

void qg_dequantize_q4_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 18, dst += QK) {
        const float d = qg_get_half(b);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)((b[2 + j] & 0x0F) - 8) * d;
            dst[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
    }
}

// MARK: - Q4_1

static void q4_1_block_plain(const float *x, uint8_t *y) {
    uint8_t levels[QK];
    float lo;
    float d = affine_block(x, 4, &lo, levels);
    qg_put_half(y, d);
    qg_put_half(y + 2, lo);
    pack_nibbles_or(levels, y + 4);
}

void qg_quantize_q4_1_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 20) q4_1_block_plain(x + b * QK, y);
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 20) {
            float w[QK], neg_min;
            uint8_t L[QK];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            float d = qg_search_affine_ref(QK, 15, x + b * QK, w, L, &neg_min);
            qg_put_half(y, d);
            qg_put_half(y + 2, -neg_min);
            pack_nibbles_or(L, y + 4);
        }
    }
}

/// level·d + m. When both level·d and m are NaN the product's NaN is the result, as in ggml's build
/// (which of two NaN operands an addition returns is otherwise up to the compiler's operand order).
static inline float affine_value(int level, float d, float m) {
    const float p = (float)level * d;
    return isnan(p) ? p : p + m;
}

void qg_dequantize_q4_1_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 20, dst += QK) {
        const float d = qg_get_half(b), m = qg_get_half(b + 2);
        for (int j = 0; j < 16; j++) {
            dst[j] = affine_value(b[4 + j] & 0x0F, d, m);
            dst[j + 16] = affine_value(b[4 + j] >> 4, d, m);
        }
    }
}

// MARK: - Q5_0

static void q5_0_store(uint8_t *y, float d, const uint8_t *levels) {
    qg_put_half(y, d);
    uint32_t qh = fifth_bits(levels);
    memcpy(y + 2, &qh, 4);
    pack_nibbles(levels, y + 6);
}

void qg_quantize_q5_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 22) {
                uint8_t levels[QK];
                float d = symmetric_block(x + b * QK, 5, levels);
                q5_0_store(y, d, levels);
            }
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 22) {
            float w[QK];
            int8_t L[QK];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            float d = qg_search_symmetric_ref(QK, 16, x + b * QK, w, L);
            q5_0_store(y, d, (const uint8_t *)L);
        }
    }
}

/// The 5-bit level of value j of a Q5_x block: its nibble plus bit j of qh as bit 4.
static inline int level5(const uint8_t *qs, uint32_t qh, int j) {
    int nib = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
    return nib | (int)(((qh >> j) & 1u) << 4);
}

void qg_dequantize_q5_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 22, dst += QK) {
        const float d = qg_get_half(b);
        uint32_t qh;
        memcpy(&qh, b + 2, 4);
        for (int j = 0; j < QK; j++) dst[j] = (float)(level5(b + 6, qh, j) - 16) * d;
    }
}

// MARK: - Q5_1

static void q5_1_store(uint8_t *y, float d, float m, const uint8_t *levels) {
    qg_put_half(y, d);
    qg_put_half(y + 2, m);
    uint32_t qh = fifth_bits(levels);
    memcpy(y + 4, &qh, 4);
    pack_nibbles(levels, y + 8);
}

void qg_quantize_q5_1_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        if (!imatrix) {
            for (int64_t b = 0; b < nb; b++, y += 24) {
                uint8_t levels[QK];
                float lo;
                float d = affine_block(x + b * QK, 5, &lo, levels);
                q5_1_store(y, d, lo, levels);
            }
            continue;
        }
        const float sigma2 = row_mean_square(x, n_per_row);
        for (int64_t b = 0; b < nb; b++, y += 24) {
            float w[QK], neg_min;
            uint8_t L[QK];
            importance_weights(x + b * QK, imatrix + b * QK, sigma2, w);
            float d = qg_search_affine_ref(QK, 31, x + b * QK, w, L, &neg_min);
            q5_1_store(y, d, -neg_min, L);
        }
    }
}

void qg_dequantize_q5_1_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 24, dst += QK) {
        const float d = qg_get_half(b), m = qg_get_half(b + 2);
        uint32_t qh;
        memcpy(&qh, b + 4, 4);
        for (int j = 0; j < QK; j++) dst[j] = affine_value(level5(b + 8, qh, j), d, m);
    }
}

// MARK: - Q8_0

void qg_quantize_q8_0_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    (void)imatrix;  // ggml's Q8_0 has no weighted variant
    uint8_t *y = dst;
    const int64_t n = nrows * n_per_row;
    for (int64_t i = 0; i < n; i += QK, y += 34) {
        const float *x = src + i;
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = fabsf(x[j]);
            amax = amax > a ? amax : a;  // a NaN amax gives way to the next value, as ggml's MAX does
        }
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        qg_put_half(y, d);
        for (int j = 0; j < QK; j++) y[2 + j] = (uint8_t)((uint32_t)qg_trunc_i32(roundf(x[j] * id)) & 0xFFu);
    }
}

void qg_dequantize_q8_0_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += QK, b += 34, dst += QK) {
        const float d = qg_get_half(b);
        for (int j = 0; j < QK; j++) dst[j] = (float)(int8_t)b[2 + j] * d;
    }
}

// Scalar reference quantizers for ggml's 256-value k-quant types Q3_K and Q6_K.
//
// Both split a 256-value super-block into sixteen groups of 16 with one signed scale each; the group
// scales are themselves quantized against one f16 super-block scale d.
//
// Q3_K (110 bytes): hmask[32] | qs[64] | scales[12] | d:f16
//   value i of group g = d·(s_g − 32)·(q_i − 4), q_i ∈ 0…7, s_g ∈ 0…63.
//   q_i: bits 0-1 in qs — within each half of 128 values, value h·128 + 32·k + l sits in qs[32·h + l]
//   at bit 2k — and bit 2 in hmask[i mod 32] at bit i/32.
//   s_g: low nibble in scales[g] (g < 8) or the high nibble of scales[g − 8]; bits 4-5 in scales[8 + g mod 4]
//   at bit 2·(g/4).
// Q6_K (210 bytes): ql[128] | qh[64] | scales[16] (int8) | d:f16
//   value i of group g = d·scales[g]·(q_i − 32), q_i ∈ 0…63. Within each half h of 128 values, value
//   h·128 + 32·k + l has its low nibble in ql[64·h + l + 32·(k mod 2)] (low half for k < 2, high half
//   otherwise) and its top two bits in qh[32·h + l] at bit 2k.
//
// Quantization, per super-block: a scale search per group (Q3_K without weights: descent search with
// weights x²; with an importance matrix: the symmetric search weighted by imatrix·sqrt(σ² + x²), σ² twice
// the block's mean square. Q6_K: the symmetric search weighted by x², or by the imatrix itself). The group
// scales are then quantized (Q3_K: 6-bit levels against the largest-magnitude scale, or with an
// importance matrix the symmetric search over the scales weighted by each group's total weight; Q6_K:
// int8 levels against the largest-magnitude scale), and every value is requantized against its group's
// decoded scale: level = clamp(round(x / (d·s)), …).
#include "quants_internal.h"
#include "quants_search.h"

#include <math.h>

QG_NO_FP_CONTRACT

enum { QK_K = 256 };

// MARK: - Q3_K

/// Packs sixteen 6-bit group scale levels into Q3_K's 12 scale bytes (shared with the AVX2 file).
void qg_q3k_pack_scales(const int *levels, uint8_t *scales) {
    memset(scales, 0, 12);
    for (int g = 0; g < 16; g++) {
        int l = levels[g];
        if (g < 8) {
            scales[g] = (uint8_t)(l & 0xF);
        } else {
            scales[g - 8] |= (uint8_t)((l & 0xF) << 4);
        }
        scales[8 + g % 4] |= (uint8_t)((l >> 4) << (2 * (g / 4)));
    }
}

/// The signed group scale multipliers s_g − 32 that Q3_K's 12 scale bytes hold (shared with the AVX2 file).
void qg_q3k_unpack_scales(const uint8_t *scales, int *mult) {
    for (int g = 0; g < 16; g++) {
        int low = g < 8 ? (scales[g] & 0xF) : (scales[g - 8] >> 4);
        int high = (scales[8 + g % 4] >> (2 * (g / 4))) & 3;
        mult[g] = (low | (high << 4)) - 32;
    }
}

/// Requantizes each group against its decoded scale (groups whose scale decodes to 0 keep the levels
/// the search gave), then writes hmask and qs. `block` is the 110-byte block with scales and d filled in.
static void q3k_finish(const float *x, int8_t *L, uint8_t *block) {
    int mult[16];
    qg_q3k_unpack_scales(block + 96, mult);
    const float d_all = qg_get_half(block + 108);
    for (int g = 0; g < 16; g++) {
        const float d = d_all * (float)mult[g];
        if (d == 0.0f) continue;
        for (int i = 0; i < 16; i++) {
            int l = qg_clamp_int(qg_round_magic(x[16 * g + i] / d), -4, 3);
            L[16 * g + i] = (int8_t)(l + 4);
        }
    }
    uint8_t *hmask = block, *qs = block + 32;
    memset(hmask, 0, 32);
    for (int i = 0; i < QK_K; i++) {
        if (L[i] > 3) {
            hmask[i % 32] |= (uint8_t)(1u << (i / 32));
            L[i] = (int8_t)(L[i] - 4);
        }
    }
    for (int h = 0; h < 2; h++) {
        const int8_t *q = L + 128 * h;
        for (int l = 0; l < 32; l++) {
            qs[32 * h + l] = (uint8_t)(q[l] | (q[l + 32] << 2) | (q[l + 64] << 4) | (q[l + 96] << 6));
        }
    }
}

/// One Q3_K super-block without weights.
static void q3k_block_plain(const float *x, uint8_t *block) {
    int8_t L[QK_K];
    float scales[16];
    float amax = 0.0f, max_scale = 0.0f;
    for (int g = 0; g < 16; g++) {
        scales[g] = qg_search_symmetric_descent_ref(16, 4, x + 16 * g, L + 16 * g);
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
            int8_t l = (int8_t)qg_round_magic(iscale * scales[g]);  // narrowed first, then clamped, as in ggml
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

/// One Q3_K super-block with importance weights `qw` (its 256 entries of the imatrix).
static void q3k_block_weighted(const float *x, const float *qw, uint8_t *block) {
    int8_t L[QK_K];
    float scales[16], group_weight[16], w[16];
    float sumx2 = 0.0f;
    for (int i = 0; i < QK_K; i++) sumx2 += x[i] * x[i];
    const float sigma2 = 2.0f * sumx2 / (float)QK_K;
    for (int g = 0; g < 16; g++) {
        for (int i = 0; i < 16; i++) w[i] = qw[16 * g + i] * sqrtf(sigma2 + x[16 * g + i] * x[16 * g + i]);
        float sumw = 0.0f;
        for (int i = 0; i < 16; i++) sumw += w[i];
        group_weight[g] = sumw;
        scales[g] = qg_search_symmetric_ref(16, 4, x + 16 * g, w, L + 16 * g);
    }
    int8_t Ls[16];
    const float d_block = qg_search_symmetric_ref(16, 32, scales, group_weight, Ls);
    int levels[16];
    for (int g = 0; g < 16; g++) levels[g] = Ls[g];
    qg_q3k_pack_scales(levels, block + 96);
    qg_put_half(block + 108, d_block);
    q3k_finish(x, L, block);
}

void qg_quantize_q3_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK_K;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        for (int64_t b = 0; b < nb; b++, y += 110) {
            if (imatrix) {
                q3k_block_weighted(x + b * QK_K, imatrix + b * QK_K, y);
            } else {
                q3k_block_plain(x + b * QK_K, y);
            }
        }
    }
}

void qg_dequantize_q3_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t k = 0; k < n; k += QK_K, b += 110, dst += QK_K) {
        const uint8_t *hmask = b, *qs = b + 32;
        int mult[16];
        qg_q3k_unpack_scales(b + 96, mult);
        const float d_all = qg_get_half(b + 108);
        for (int i = 0; i < QK_K; i++) {
            const int h = i / 128, k4 = (i % 128) / 32, l = i % 32;
            const int low = (qs[32 * h + l] >> (2 * k4)) & 3;
            const int q = low - ((hmask[l] >> (i / 32)) & 1 ? 0 : 4);
            const float dl = d_all * (float)mult[i / 16];
            dst[i] = dl * (float)q;
        }
    }
}

// MARK: - Q6_K

/// Writes Q6_K's ql and qh from 256 levels in 0…63.
static void q6k_pack(const int8_t *L, uint8_t *ql, uint8_t *qh) {
    for (int h = 0; h < 2; h++) {
        const int8_t *q = L + 128 * h;
        for (int l = 0; l < 32; l++) {
            ql[64 * h + l] = (uint8_t)((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
            ql[64 * h + l + 32] = (uint8_t)((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
            qh[32 * h + l] = (uint8_t)((q[l] >> 4) | ((q[l + 32] >> 4) << 2) | ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
        }
    }
}

/// One Q6_K super-block; `qw` is its 256 imatrix entries or NULL (weights x²).
static void q6k_block(const float *x, const float *qw, uint8_t *block) {
    int8_t L[QK_K];
    float scales[16];
    float max_abs = 0.0f, max_scale = 0.0f;
    for (int g = 0; g < 16; g++) {
        scales[g] = qg_search_symmetric_ref(16, 32, x + 16 * g, qw ? qw + 16 * g : NULL, L + 16 * g);
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
        for (int i = 0; i < 16; i++) {
            int l = qg_clamp_int(qg_round_magic(x[16 * g + i] / d), -32, 31);
            L[16 * g + i] = (int8_t)(l + 32);
        }
    }
    q6k_pack(L, block, block + 128);
}

void qg_quantize_q6_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    uint8_t *y = dst;
    const int64_t nb = n_per_row / QK_K;
    for (int64_t r = 0; r < nrows; r++) {
        const float *x = src + r * n_per_row;
        for (int64_t b = 0; b < nb; b++, y += 210) q6k_block(x + b * QK_K, imatrix ? imatrix + b * QK_K : NULL, y);
    }
}

void qg_dequantize_q6_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t k = 0; k < n; k += QK_K, b += 210, dst += QK_K) {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        const float d = qg_get_half(b + 208);
        for (int i = 0; i < QK_K; i++) {
            const int h = i / 128, k4 = (i % 128) / 32, l = i % 32;
            const uint8_t lowbyte = ql[64 * h + l + 32 * (k4 & 1)];
            const int low = k4 < 2 ? (lowbyte & 0xF) : (lowbyte >> 4);
            const int high = (qh[32 * h + l] >> (2 * k4)) & 3;
            const int q = (low | (high << 4)) - 32;
            dst[i] = d * (float)sc[i / 16] * (float)q;
        }
    }
}

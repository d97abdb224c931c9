// Reference Q2_K, Q4_K and Q5_K quantization and dequantization, bit-identical to llama.cpp's ggml.
//
// Block layouts (256 values per super-block, f16 fields little-endian):
//   Q2_K  84 bytes: scales[16] (low nibble: scale code, high nibble: minimum code, one byte per
//                   16-value sub-block) · qs[64] (2-bit codes) · d · dmin
//   Q4_K 144 bytes: d · dmin · scales[12] (6-bit codes, qg_kx_scale6) · qs[128] (4-bit codes)
//   Q5_K 176 bytes: d · dmin · scales[12] · qh[32] (fifth bits) · qs[128] (low 4 bits)
// Code placement within a super-block:
//   Q2_K: value 128·h + 32·s + r (h < 2, s < 4, r < 32) is bits 2s…2s+1 of qs[32·h + r].
//   Q4_K: value 64·c + r (c < 4, r < 32) is the low nibble of qs[32·c + r]; value 64·c + 32 + r its high one.
//   Q5_K: as Q4_K for the low four bits; the fifth bit of value 64·c + r is bit 2c of qh[r], that of
//         value 64·c + 32 + r bit 2c + 1.
//
// The quantizers are written once, parameterised by the inner kernel set (struct qg_kx_kernels), so the
// AVX2 variants run this same code around their vectorised searches.
#include "quants_kx_search.h"
#include "quants_internal.h"

#include <math.h>

enum {
    Q2K_BYTES = 84,
    Q4K_BYTES = 144,
    Q5K_BYTES = 176,
};

// MARK: - Code packing

static void pack_q2_codes(const uint8_t *L, uint8_t *qs) {
    for (int h = 0; h < 2; h++) {
        const uint8_t *src = L + 128 * h;
        for (int r = 0; r < 32; r++) {
            qs[32 * h + r] = (uint8_t)(src[r] | (src[r + 32] << 2) | (src[r + 64] << 4) | (src[r + 96] << 6));
        }
    }
}

static void pack_q4_codes(const uint8_t *L, uint8_t *qs) {
    for (int c = 0; c < 4; c++) {
        for (int r = 0; r < 32; r++) qs[32 * c + r] = (uint8_t)(L[64 * c + r] | (L[64 * c + 32 + r] << 4));
    }
}

static void pack_q5_codes(const uint8_t *L, uint8_t *qh, uint8_t *qs) {
    memset(qh, 0, 32);
    for (int c = 0; c < 4; c++) {
        for (int r = 0; r < 32; r++) {
            int lo = L[64 * c + r], hi = L[64 * c + 32 + r];
            if (lo > 15) {
                lo -= 16;
                qh[r] |= (uint8_t)(1u << (2 * c));
            }
            if (hi > 15) {
                hi -= 16;
                qh[r] |= (uint8_t)(2u << (2 * c));
            }
            qs[32 * c + r] = (uint8_t)(lo | (hi << 4));
        }
    }
}

// MARK: - Q2_K

/// One Q2_K super-block without an importance matrix (ggml's quantize_row_q2_K_ref).
/// Sub-blocks are searched with weights |x| and a mean-absolute-error sweep; scales and minima are then
/// mapped linearly onto 4-bit codes against their maxima (d = max scale / 15, dmin = max min / 15).
static void q2k_block_plain(const float *x, uint8_t *out, const struct qg_kx_kernels *kern) {
    static const struct qg_kx_sweep sweep = {-0.5f, 0.1f, 15, 1};
    uint8_t L[QG_KX_SUPER];
    float scales[16], mins[16], w[16];
    uint8_t *sc = out, *qs = out + 16;

    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; j++) {
        for (int i = 0; i < 16; i++) w[i] = fabsf(x[16 * j + i]);
        scales[j] = kern->fit(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], &sweep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }

    uint16_t d_bits = qg_kx_half_bits(0.0f), dmin_bits = qg_kx_half_bits(0.0f);
    if (max_scale > 0) {
        float inv = 15.0f / max_scale;
        for (int j = 0; j < 16; j++) sc[j] = (uint8_t)qg_kx_round(inv * scales[j]);
        d_bits = qg_kx_half_bits(max_scale / 15.0f);
    } else {
        memset(sc, 0, 16);
    }
    if (max_min > 0) {
        float inv = 15.0f / max_min;
        for (int j = 0; j < 16; j++) sc[j] |= (uint8_t)((unsigned)qg_kx_round(inv * mins[j]) << 4);
        dmin_bits = qg_kx_half_bits(max_min / 15.0f);
    }
    qg_kx_store_half(out + 80, d_bits);
    qg_kx_store_half(out + 82, dmin_bits);

    float d = qg_kx_half_value(d_bits), dmin = qg_kx_half_value(dmin_bits);
    for (int j = 0; j < 16; j++) {
        float dj = d * (float)(sc[j] & 0x0F);
        if (dj == 0) continue;  // keep the search's codes
        kern->requantize(16, 3, x + 16 * j, dj, dmin * (float)(sc[j] >> 4), L + 16 * j);
    }
    pack_q2_codes(L, qs);
}

/// One Q2_K super-block with importance weights `qw` (ggml's quantize_row_q2_K_impl).
/// Value weights are qw_i · sqrt(σ² + x_i²) with σ² the super-block's mean square; sub-blocks use the
/// squared-error sweep; scales and minima get their 4-bit codes from the weighted factor search, each
/// sub-block weighted by the sum of its value weights.
static void q2k_block_weighted(const float *x, const float *qw, uint8_t *out, const struct qg_kx_kernels *kern) {
    static const struct qg_kx_sweep sweep = {-0.9f, 0.05f, 36, 0};
    uint8_t L[QG_KX_SUPER], ls[16], lm[16];
    float scales[16], mins[16], wsum[16], w[16];
    uint8_t *sc = out, *qs = out + 16;

    float sum_x2 = 0;
    for (int i = 0; i < QG_KX_SUPER; i++) sum_x2 += x[i] * x[i];
    float sigma2 = sum_x2 / (float)QG_KX_SUPER;
    for (int j = 0; j < 16; j++) {
        const float *xj = x + 16 * j;
        for (int i = 0; i < 16; i++) w[i] = qw[16 * j + i] * sqrtf(sigma2 + xj[i] * xj[i]);
        float s = 0;
        for (int i = 0; i < 16; i++) s += w[i];
        wsum[j] = s;
        scales[j] = kern->fit(16, 3, xj, w, L + 16 * j, &mins[j], &sweep);
    }

    uint16_t d_bits = qg_kx_half_bits(qg_kx_fit_scales(16, 15, scales, wsum, ls));
    uint16_t dmin_bits = qg_kx_half_bits(qg_kx_fit_scales(16, 15, mins, wsum, lm));
    qg_kx_store_half(out + 80, d_bits);
    qg_kx_store_half(out + 82, dmin_bits);
    for (int j = 0; j < 16; j++) sc[j] = (uint8_t)(ls[j] | (lm[j] << 4));

    float d = qg_kx_half_value(d_bits), dmin = qg_kx_half_value(dmin_bits);
    for (int j = 0; j < 16; j++) {
        float dj = d * (float)(sc[j] & 0x0F);
        if (dj == 0) continue;
        kern->requantize(16, 3, x + 16 * j, dj, dmin * (float)(sc[j] >> 4), L + 16 * j);
    }
    pack_q2_codes(L, qs);
}

void qg_kx_quantize_q2_k_rows(const float *src, uint8_t *dst, int64_t nrows, int64_t n_per_row, const float *imatrix,
                              const struct qg_kx_kernels *kernels) {
    int64_t blocks = n_per_row / QG_KX_SUPER;
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t b = 0; b < blocks; b++) {
            const float *x = src + (r * n_per_row + b * QG_KX_SUPER);
            uint8_t *out = dst + (r * blocks + b) * Q2K_BYTES;
            if (imatrix) {
                q2k_block_weighted(x, imatrix + b * QG_KX_SUPER, out, kernels);
            } else {
                q2k_block_plain(x, out, kernels);
            }
        }
    }
}

// MARK: - Q4_K and Q5_K (8 sub-blocks of 32 values)

/// Stages 1–3 shared by Q4_K and Q5_K for one super-block: fills d, dmin and the 12 scale bytes
/// (`head`, 16 bytes in the block layout) and the final codes L (0…nmax).
///
/// Without weights (ggml's quantize_row_q{4,5}_K_ref): each sub-block is weighted by rms(sub-block) + |x_i|
/// and searched with the given sweep; codes are round(63 · v / max v) for scales and minima alike,
/// clamped to 63, and d = max scale / 63, dmin = max min / 63.
/// With weights (ggml's quantize_row_q{4,5}_K_impl): weights qw_i · sqrt(2·mean(x²) + x_i²), the
/// squared-error sweep (−0.9, 0.05, 36), and the weighted factor search for the 6-bit codes
/// (`clamp_codes`: Q5_K clamps them to 63 before packing, Q4_K packs them as they come).
static void k32_superblock(const float *x, const float *qw, int nmax, const struct qg_kx_sweep *plain_sweep,
                           int clamp_codes, uint8_t *head, uint8_t *L, const struct qg_kx_kernels *kern) {
    static const struct qg_kx_sweep weighted_sweep = {-0.9f, 0.05f, 36, 0};
    float scales[8], mins[8], wsum[8], w[32];
    uint8_t ls[8], lm[8];
    uint16_t d_bits, dmin_bits;

    if (!qw) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) {
            const float *xj = x + 32 * j;
            float s2 = 0;
            for (int i = 0; i < 32; i++) s2 += xj[i] * xj[i];
            float rms = sqrtf(s2 / 32.0f);
            for (int i = 0; i < 32; i++) w[i] = rms + fabsf(xj[i]);
            scales[j] = kern->fit(32, nmax, xj, w, L + 32 * j, &mins[j], plain_sweep);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        for (int j = 0; j < 8; j++) {
            uint8_t a = (uint8_t)qg_kx_round(inv_scale * scales[j]);
            uint8_t b = (uint8_t)qg_kx_round(inv_min * mins[j]);
            ls[j] = a < 63 ? a : 63;
            lm[j] = b < 63 ? b : 63;
        }
        d_bits = qg_kx_half_bits(max_scale / 63.0f);
        dmin_bits = qg_kx_half_bits(max_min / 63.0f);
    } else {
        float sum_x2 = 0;
        for (int i = 0; i < QG_KX_SUPER; i++) sum_x2 += x[i] * x[i];
        float sigma2 = 2 * sum_x2 / (float)QG_KX_SUPER;
        for (int j = 0; j < 8; j++) {
            const float *xj = x + 32 * j;
            for (int i = 0; i < 32; i++) w[i] = qw[32 * j + i] * sqrtf(sigma2 + xj[i] * xj[i]);
            float s = 0;
            for (int i = 0; i < 32; i++) s += w[i];
            wsum[j] = s;
            scales[j] = kern->fit(32, nmax, xj, w, L + 32 * j, &mins[j], &weighted_sweep);
        }
        float d_block = qg_kx_fit_scales(8, 63, scales, wsum, ls);
        float m_block = qg_kx_fit_scales(8, 63, mins, wsum, lm);
        if (clamp_codes) {
            for (int j = 0; j < 8; j++) {
                if (ls[j] > 63) ls[j] = 63;
                if (lm[j] > 63) lm[j] = 63;
            }
        }
        d_bits = qg_kx_half_bits(d_block);
        dmin_bits = qg_kx_half_bits(m_block);
    }
    qg_kx_store_half(head, d_bits);
    qg_kx_store_half(head + 2, dmin_bits);
    qg_kx_pack_scales6(ls, lm, head + 4);

    float d = qg_kx_half_value(d_bits), dmin = qg_kx_half_value(dmin_bits);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        qg_kx_scale6(head + 4, j, &sc, &m);
        float dj = d * (float)sc;
        if (dj == 0) continue;  // keep the search's codes
        kern->requantize(32, nmax, x + 32 * j, dj, dmin * (float)m, L + 32 * j);
    }
}

void qg_kx_quantize_q4_k_rows(const float *src, uint8_t *dst, int64_t nrows, int64_t n_per_row, const float *imatrix,
                              const struct qg_kx_kernels *kernels) {
    static const struct qg_kx_sweep plain = {-1.0f, 0.1f, 20, 0};
    int64_t blocks = n_per_row / QG_KX_SUPER;
    uint8_t L[QG_KX_SUPER];
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t b = 0; b < blocks; b++) {
            const float *x = src + (r * n_per_row + b * QG_KX_SUPER);
            uint8_t *out = dst + (r * blocks + b) * Q4K_BYTES;
            k32_superblock(x, imatrix ? imatrix + b * QG_KX_SUPER : NULL, 15, &plain, 0, out, L, kernels);
            pack_q4_codes(L, out + 16);
        }
    }
}

void qg_kx_quantize_q5_k_rows(const float *src, uint8_t *dst, int64_t nrows, int64_t n_per_row, const float *imatrix,
                              const struct qg_kx_kernels *kernels) {
    static const struct qg_kx_sweep plain = {-0.5f, 0.1f, 15, 0};
    int64_t blocks = n_per_row / QG_KX_SUPER;
    uint8_t L[QG_KX_SUPER];
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t b = 0; b < blocks; b++) {
            const float *x = src + (r * n_per_row + b * QG_KX_SUPER);
            uint8_t *out = dst + (r * blocks + b) * Q5K_BYTES;
            k32_superblock(x, imatrix ? imatrix + b * QG_KX_SUPER : NULL, 31, &plain, 1, out, L, kernels);
            pack_q5_codes(L, out + 16, out + 48);
        }
    }
}

// MARK: - Public reference entry points

void qg_quantize_q2_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_kx_quantize_q2_k_rows(src, (uint8_t *)dst, nrows, n_per_row, imatrix, &qg_kx_kernels_ref);
}

void qg_quantize_q4_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_kx_quantize_q4_k_rows(src, (uint8_t *)dst, nrows, n_per_row, imatrix, &qg_kx_kernels_ref);
}

void qg_quantize_q5_k_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    qg_kx_quantize_q5_k_rows(src, (uint8_t *)dst, nrows, n_per_row, imatrix, &qg_kx_kernels_ref);
}

/// v = d · sc_j · q − dmin · m_j, with (d · sc_j) and (dmin · m_j) rounded to f32 first, as ggml does.
void qg_dequantize_q2_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *blk = (const uint8_t *)src;
    for (int64_t b = 0; b < n / QG_KX_SUPER; b++, blk += Q2K_BYTES, dst += QG_KX_SUPER) {
        float d = qg_kx_half_value(qg_kx_load_half(blk + 80));
        float dmin = qg_kx_half_value(qg_kx_load_half(blk + 82));
        for (int j = 0; j < 16; j++) {  // sub-block j: values 16j … 16j + 15
            uint8_t sc = blk[j];
            float step = d * (float)(sc & 0x0F), offset = dmin * (float)(sc >> 4);
            const uint8_t *q = blk + 16 + 32 * (j / 8) + 16 * (j % 2);
            int shift = 2 * ((j % 8) / 2);
            for (int r = 0; r < 16; r++) dst[16 * j + r] = step * (float)((q[r] >> shift) & 3) - offset;
        }
    }
}

void qg_dequantize_q4_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *blk = (const uint8_t *)src;
    for (int64_t b = 0; b < n / QG_KX_SUPER; b++, blk += Q4K_BYTES, dst += QG_KX_SUPER) {
        float d = qg_kx_half_value(qg_kx_load_half(blk));
        float dmin = qg_kx_half_value(qg_kx_load_half(blk + 2));
        const uint8_t *qs = blk + 16;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            qg_kx_scale6(blk + 4, j, &sc, &m);
            float step = d * (float)sc, offset = dmin * (float)m;
            const uint8_t *q = qs + 32 * (j / 2);
            int shift = 4 * (j % 2);
            for (int r = 0; r < 32; r++) dst[32 * j + r] = step * (float)((q[r] >> shift) & 0x0F) - offset;
        }
    }
}

void qg_dequantize_q5_k_ref(const void *src, float *dst, int64_t n) {
    const uint8_t *blk = (const uint8_t *)src;
    for (int64_t b = 0; b < n / QG_KX_SUPER; b++, blk += Q5K_BYTES, dst += QG_KX_SUPER) {
        float d = qg_kx_half_value(qg_kx_load_half(blk));
        float dmin = qg_kx_half_value(qg_kx_load_half(blk + 2));
        const uint8_t *qh = blk + 16, *qs = blk + 48;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            qg_kx_scale6(blk + 4, j, &sc, &m);
            float step = d * (float)sc, offset = dmin * (float)m;
            const uint8_t *q = qs + 32 * (j / 2);
            int shift = 4 * (j % 2);
            for (int r = 0; r < 32; r++) {
                int code = ((q[r] >> shift) & 0x0F) + (((qh[r] >> j) & 1) << 4);
                dst[32 * j + r] = step * (float)code - offset;
            }
        }
    }
}

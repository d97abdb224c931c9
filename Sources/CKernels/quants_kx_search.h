// Shared machinery for the three ggml k-quants that store a scale and a minimum per sub-block:
// Q2_K (16 sub-blocks of 16 values, 2-bit codes), Q4_K and Q5_K (8 sub-blocks of 32 values, 4- and
// 5-bit codes). Every super-block holds 256 values. A value is reconstructed as
//
//     v ≈ d · sc_j · q − dmin · m_j
//
// where d and dmin are f16 super-block factors, sc_j and m_j small integer codes for sub-block j
// (4 bits each in Q2_K, 6 bits each in Q4_K/Q5_K) and q the per-value code.
//
// Quantizing a super-block has three stages:
//   1. per sub-block, a least-squares search for a scale and a non-positive offset (`fit_affine`);
//   2. the sub-block scales and minima are themselves quantized against d and dmin
//      (plain max-scaling without an importance matrix, `qg_kx_fit_scales` with one);
//   3. every value is re-rounded against the reconstructed (d · sc_j, dmin · m_j) pair (`requantize`).
//
// Bit-exactness with ggml depends on doing every float operation in the same order and precision as
// ggml's scalar C. ggml's x86-64 build has no FMA, so none of its products is fused into an addition;
// a compiler allowed to contract a·b + c into one FMA (clang on arm64, or any code built for an FMA
// target) would change bits. This header therefore switches contraction off for the rest of every
// translation unit that includes it, which it must do before any code.
//
// Only quants_q2k_q4k_q5k_ref.c, quants_q2k_q4k_q5k_avx2.c and quants_kx_search.c include this header.
#ifndef QG_QUANTS_KX_SEARCH_H
#define QG_QUANTS_KX_SEARCH_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <stdint.h>
#include <string.h>

#include "qg_numerics.h"

/// Values per super-block.
#define QG_KX_SUPER 256

// MARK: - Scalar primitives

/// ggml's round-to-nearest: adding 1.5 · 2^23 moves the integer part of a float with |v| < 2^22 into
/// the low mantissa bits (the addition itself rounds, ties to even); those bits, re-centred, are the
/// rounded integer. For |v| ≥ 2^22, Inf or NaN the result is whatever the bits give; ggml then clamps
/// it, and so do we, so the same garbage-in gives the same garbage-out.
static inline int qg_kx_round(float v) {
    float biased = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &biased, sizeof bits);
    return (bits & 0x007FFFFF) - 0x00400000;
}

/// f32 → f16 bits, round to nearest even (qg_f32_to_f16_ref). A NaN becomes sign | 0x7E00 without its
/// payload, as ggml's software conversion does.
static inline uint16_t qg_kx_half_bits(float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)(((bits >> 16) & 0x8000u) | 0x7E00u);
    uint16_t h;
    qg_f32_to_f16_ref(&v, &h, 1);
    return h;
}

/// f16 bits → f32 (exact).
static inline float qg_kx_half_value(uint16_t h) {
    float v;
    qg_f16_to_f32_ref(&h, &v, 1);
    return v;
}

/// Little-endian f16 field of a block.
static inline uint16_t qg_kx_load_half(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline void qg_kx_store_half(uint8_t *p, uint16_t h) {
    p[0] = (uint8_t)(h & 0xFF);
    p[1] = (uint8_t)(h >> 8);
}

// MARK: - 6-bit scale/min codes (Q4_K, Q5_K)

/// Unpacks the 6-bit scale code `*sc` and minimum code `*m` of sub-block j (0…7) from the 12-byte field.
/// Bytes 0–3 hold sc_0…3 in their low six bits, bytes 4–7 hold m_0…3 likewise; sub-blocks 4…7 keep their
/// low nibbles in bytes 8–11 (scale low, minimum high) and their top two bits in the spare top bits of
/// bytes 0–3 (scale) and 4–7 (minimum).
static inline void qg_kx_scale6(const uint8_t *s, int j, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/// Packs eight scale codes `ls` and eight minimum codes `lm` into the 12-byte field read by qg_kx_scale6.
/// Codes are taken as given (callers clamp to 63 where ggml does); any bits above the field are cut,
/// byte by byte, exactly as ggml's byte-wise stores cut them.
void qg_kx_pack_scales6(const uint8_t *ls, const uint8_t *lm, uint8_t *out);

// MARK: - Searches

/// Candidate sweep of the affine search: candidate `is` (0…nstep) rescales the range with
/// (nmax + rmin + rdelta · is) / (max − min). `use_mad` selects a weighted absolute error instead of a
/// weighted squared error.
struct qg_kx_sweep {
    float rmin;
    float rdelta;
    int nstep;
    int use_mad;
};

/// Affine search for one sub-block: finds a scale s and an offset b ≤ 0 so that s · L_i + b ≈ x_i
/// (weights w_i), with integer codes L_i ∈ [0, nmax] written to `L`. Returns s and stores −b in
/// `*neg_min`. See quants_kx_search.c for the algorithm.
typedef float (*qg_kx_fit_fn)(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min,
                              const struct qg_kx_sweep *sweep);

/// Final rounding of one sub-block against its reconstructed step d (≠ 0) and offset dm:
/// L_i = clamp(round((x_i + dm) / d), 0, nmax).
typedef void (*qg_kx_requantize_fn)(int n, int nmax, const float *x, float d, float dm, uint8_t *L);

/// The interchangeable inner kernels of a quantizer; the reference and AVX2 sets give identical bits.
struct qg_kx_kernels {
    qg_kx_fit_fn fit;
    qg_kx_requantize_fn requantize;
};

float qg_kx_fit_affine_ref(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min,
                           const struct qg_kx_sweep *sweep);
void qg_kx_requantize_ref(int n, int nmax, const float *x, float d, float dm, uint8_t *L);

/// Weighted fit of one non-negative super-block factor d to the n sub-block values v_j (scales or minima),
/// v_j ≈ d · c_j with codes c_j ≤ nmax written to `codes`; w_j weighs sub-block j. Returns d
/// (0 when every v_j is below 1e-15). Used with an importance matrix only.
float qg_kx_fit_scales(int n, int nmax, const float *v, const float *w, uint8_t *codes);

/// The reference kernel set.
extern const struct qg_kx_kernels qg_kx_kernels_ref;

// MARK: - Row quantizers (quants_q2k_q4k_q5k_ref.c), parameterised by the kernel set

void qg_kx_quantize_q2_k_rows(const float *src, uint8_t *dst, int64_t nrows, int64_t n_per_row, const float *imatrix,
                              const struct qg_kx_kernels *kernels);
void qg_kx_quantize_q4_k_rows(const float *src, uint8_t *dst, int64_t nrows, int64_t n_per_row, const float *imatrix,
                              const struct qg_kx_kernels *kernels);
void qg_kx_quantize_q5_k_rows(const float *src, uint8_t *dst, int64_t nrows, int64_t n_per_row, const float *imatrix,
                              const struct qg_kx_kernels *kernels);

#endif

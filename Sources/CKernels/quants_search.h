// Shared pieces of the Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q3_K Q6_K block quantizers: ggml's rounding and
// conversion conventions, the f16 scale codec, and the scale searches those types run per block.
//
// Bit-exactness rules every caller and implementation here keeps:
//  - All arithmetic is f32, one IEEE operation at a time, in ggml's operand order; no FMA contraction
//    (see QG_NO_FP_CONTRACT), no reassociation. Sums over a block run strictly from first to last.
//  - Float → integer conversions that C leaves undefined out of range use x86's truncating
//    conversion result (INT32_MIN for NaN, ±Inf and out-of-range values), then keep the low bits as
//    ggml's compiled code does; this makes the reference defined for every input.
//  - The SIMD searches evaluate all trial scales at once, one trial per vector lane, each lane
//    accumulating in the reference order, and then choose among the trials with the reference's
//    sequential comparisons: the same values in a different schedule.
#ifndef QG_QUANTS_SEARCH_H
#define QG_QUANTS_SEARCH_H

#include <stdint.h>
#include <string.h>

#include "qg_numerics.h"

/// Turns off floating-point contraction (a*b+c → fma) for the rest of a source file: ggml's
/// reference build rounds every product and sum separately, so a fused multiply-add would change bits.
#if defined(__clang__)
#define QG_NO_FP_CONTRACT _Pragma("STDC FP_CONTRACT OFF") _Pragma("clang fp contract(off)")
#elif defined(__GNUC__)
#define QG_NO_FP_CONTRACT _Pragma("GCC optimize(\"fp-contract=off\")")
#else
#define QG_NO_FP_CONTRACT
#endif

/// Magnitudes below this count as an all-zero group in the scale searches (ggml's GROUP_MAX_EPS).
#define QG_SEARCH_ZERO_EPS 1e-15f

/// ggml's round-to-nearest for |v| < 2^22: adding 1.5·2^23 leaves the rounded integer (ties to even)
/// in the low mantissa bits. Defined bitwise for every input, as ggml's version is.
static inline int qg_round_magic(float v) {
    float biased = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &biased, sizeof bits);
    return (bits & 0x007FFFFF) - 0x00400000;
}

/// Truncation toward zero with x86's out-of-range answer: INT32_MIN for NaN, ±Inf and anything outside
/// [-2^31, 2^31). This is what ggml's `(int8_t)f` / `(uint8_t)f` conversions compile to (cvttss2si /
/// cvttps2dq, keeping the low byte), and what _mm256_cvttps_epi32 gives lane by lane.
static inline int32_t qg_trunc_i32(float v) {
    return (v >= -2147483648.0f && v < 2147483648.0f) ? (int32_t)v : INT32_MIN;
}

/// f32 → IEEE binary16 bits, round to nearest even (ggml's GGML_FP32_TO_FP16).
static inline uint16_t qg_half_bits(float v) {
    uint16_t h;
    qg_f32_to_f16_ref(&v, &h, 1);
    return h;
}

/// IEEE binary16 bits → f32, exact (ggml's GGML_FP16_TO_FP32).
static inline float qg_half_value(uint16_t h) {
    float v;
    qg_f16_to_f32_ref(&h, &v, 1);
    return v;
}

/// The f16 scale fields of a block, in native byte order as ggml's block structs hold them (blocks are
/// plain byte arrays here, so the fields may sit at any alignment).
static inline void qg_put_half(uint8_t *p, float v) {
    uint16_t h = qg_half_bits(v);
    memcpy(p, &h, sizeof h);
}
static inline float qg_get_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return qg_half_value(h);
}

static inline int qg_clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// MARK: - Scale searches (scalar definitions)

/// Symmetric scale search for `n` values onto the integers [-nmax, nmax-1] (ggml's make_qx_quants with
/// rmse_type 1). Weights are `weights[i]`, or x[i]² when `weights` is NULL.
///
/// The group's signed peak p (the first value of largest magnitude) sets the first trial inverse scale
/// -nmax/p; eighteen more trials use -(nmax + 0.1·k)/p for k = ±1…±9. Each trial rounds every value,
/// forms Σw·x·l and Σw·l² in order, and the least-squares scale Σwxl/Σwl² of the best trial (the one
/// that maximises (Σwxl)²/Σwl², compared as a cross product, earliest wins) is returned. Writes
/// L[i] = l + nmax for that trial. A group whose peak magnitude is below QG_SEARCH_ZERO_EPS gives
/// scale 0 and L = 0.
float qg_search_symmetric_ref(int n, int nmax, const float *x, const float *weights, int8_t *L);

/// Symmetric search with coordinate descent (ggml's make_q3_quants with do_rmse), weights x[i]²:
/// start from rounding at inverse scale -nmax/p, then up to five sweeps that move single values to the
/// level the current least-squares fit asks for whenever that raises (Σwxl)²/Σwl². Writes L[i] = l + nmax
/// and returns Σwxl/Σwl² (0 when Σwl² is not positive); an all-zero group gives 0 and L = 0.
float qg_search_symmetric_descent_ref(int n, int nmax, const float *x, int8_t *L);

/// Affine (scale and minimum) search onto [0, nmax] (ggml's make_qkx3_quants with rmin -0.9, rdelta
/// 0.05, 36 steps, squared error) for n ≤ 256 values, weights required. The offset starts at
/// min(0, min x). The first trial is plain min-max rounding; 37 more trials k = 0…36 round at inverse
/// scale (nmax - 0.9 + 0.05·k)/(max - offset), measuring values from the current offset, and fit scale
/// and offset by weighted least squares (offset clamped to ≤ 0). A trial with strictly smaller weighted
/// squared error than the best so far is taken, and its offset is the one later trials measure from.
/// Writes L, stores the negated offset in *neg_min, and returns the scale.
float qg_search_affine_ref(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *neg_min);

/// Q3_K's 12 scale bytes ⇄ its sixteen 6-bit group scale levels (stored as level, read back as level − 32).
void qg_q3k_pack_scales(const int *levels, uint8_t *scales);
void qg_q3k_unpack_scales(const uint8_t *scales, int *mult);

#if defined(__x86_64__) || defined(_M_X64)

// MARK: - AVX2 variants (bit-identical to the scalar definitions for every input)

/// n a multiple of 8 (otherwise the scalar search runs).
float qg_search_symmetric_avx2(int n, int nmax, const float *x, const float *weights, int8_t *L);
/// n a multiple of 8 and at most 32 (otherwise the scalar search runs).
float qg_search_affine_avx2(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *neg_min);

/// qg_search_symmetric_descent_ref over sixteen consecutive groups of 16 values (x[16g…16g+15] →
/// L[16g…], scales[g]), the sixteen searches running side by side in vector lanes.
void qg_search_symmetric_descent16_avx2(int nmax, const float *x, int8_t *L, float *scales);

/// 1 when all `n` values are finite (no NaN, no ±Inf).
int qg_all_finite_avx2(const float *x, int64_t n);

#endif

#endif  // QG_QUANTS_SEARCH_H

// Scalar reference conversions: the definition every SIMD variant must match bit for bit.
// Pure integer arithmetic on the bit patterns, so no FPU mode (FTZ/DAZ, contraction) affects them.
#pragma STDC FP_CONTRACT OFF

#include "qg_numerics.h"

#include <string.h>

static inline uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

// MARK: - Generic minifloat decode/encode

/// Decodes a minifloat with `mbits` mantissa bits and exponent bias `bias` whose exponent field
/// is `ebits` wide, given as a sign-less magnitude code. The all-ones exponent is treated as
/// Inf/NaN (IEEE style); callers with no infinity (E4M3FN) handle their NaN code first.
static uint32_t decode_magnitude(uint32_t code, int ebits, int mbits, int bias) {
    uint32_t exponent = code >> mbits;
    uint32_t mantissa = code & ((1u << mbits) - 1u);
    uint32_t max_exponent = (1u << ebits) - 1u;
    if (exponent == max_exponent) {
        if (mantissa == 0) return 0x7F800000u;
        return 0x7FC00000u | (mantissa << (23 - mbits));  // quiet NaN, payload kept
    }
    if (exponent == 0) {
        if (mantissa == 0) return 0;
        // Subnormal: mantissa · 2^(1 − bias − mbits). Normalise so the leading 1 becomes implicit.
        int shift = 0;
        while ((mantissa & (1u << mbits)) == 0) {
            mantissa <<= 1;
            shift += 1;
        }
        mantissa &= (1u << mbits) - 1u;
        uint32_t f32_exponent = (uint32_t)(127 - bias + 1 - shift);
        return (f32_exponent << 23) | (mantissa << (23 - mbits));
    }
    return ((exponent + (uint32_t)(127 - bias)) << 23) | (mantissa << (23 - mbits));
}

/// Rounds a finite f32 magnitude (sign bit clear) to the nearest minifloat magnitude code with
/// `mbits` mantissa bits and bias `bias`, ties to even, subnormals kept. The exponent is not
/// bounded: the caller saturates or maps overflow to infinity.
static uint32_t round_magnitude(uint32_t abs, int mbits, int bias) {
    int32_t exponent = (int32_t)(abs >> 23);
    int32_t min_normal_exponent = 127 - bias + 1;
    uint32_t code, rest, halfway;
    if (exponent >= min_normal_exponent) {
        int drop = 23 - mbits;
        code = ((uint32_t)(exponent - 127 + bias) << mbits) | ((abs & 0x7FFFFFu) >> drop);
        rest = abs & ((1u << drop) - 1u);
        halfway = 1u << (drop - 1);
    } else {
        // value = significand · 2^(e − 150); the subnormal unit is 2^(1 − bias − mbits).
        uint32_t significand = exponent == 0 ? (abs & 0x7FFFFFu) : ((abs & 0x7FFFFFu) | 0x800000u);
        int32_t effective_exponent = exponent == 0 ? 1 : exponent;
        int32_t drop = 150 + 1 - bias - mbits - effective_exponent;
        if (drop > 25) return 0;  // below half the smallest subnormal
        code = significand >> drop;
        rest = significand & ((1u << drop) - 1u);
        halfway = 1u << (drop - 1);
    }
    if (rest > halfway || (rest == halfway && (code & 1u))) code += 1;  // a carry moves into the exponent
    return code;
}

// MARK: - f16

static inline uint32_t decode_f16(uint16_t h) {
    return ((uint32_t)(h & 0x8000u) << 16) | decode_magnitude(h & 0x7FFFu, 5, 10, 15);
}

static inline uint16_t encode_f16(uint32_t x) {
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t abs = x & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((abs & 0x7FFFFFu) >> 13));
    if (abs == 0x7F800000u) return (uint16_t)(sign | 0x7C00u);
    uint32_t code = round_magnitude(abs, 10, 15);
    if (code >= 0x7C00u) code = 0x7C00u;  // overflow → infinity
    return (uint16_t)(sign | code);
}

void qg_f16_to_f32_ref(const uint16_t *restrict src, float *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = f32_from_bits(decode_f16(src[i]));
}

void qg_f32_to_f16_ref(const float *restrict src, uint16_t *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = encode_f16(f32_bits(src[i]));
}

// MARK: - bf16

void qg_bf16_to_f32_ref(const uint16_t *restrict src, float *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = f32_from_bits((uint32_t)src[i] << 16);
}

void qg_f32_to_bf16_ref(const float *restrict src, uint16_t *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t x = f32_bits(src[i]);
        if ((x & 0x7FFFFFFFu) > 0x7F800000u) {
            dst[i] = (uint16_t)((x >> 16) | 0x40u);
        } else {
            dst[i] = (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
        }
    }
}

// MARK: - FP8 E4M3FN (bias 7, 3 mantissa bits, no infinity, NaN = S.1111.111, max 448)

static inline uint32_t decode_e4m3(uint8_t b) {
    uint32_t sign = (uint32_t)(b & 0x80u) << 24;
    if ((b & 0x7Fu) == 0x7Fu) return sign | 0x7FC00000u;
    // The format has no infinity, so decode with a 5-bit exponent field that never reaches all-ones.
    return sign | decode_magnitude(b & 0x7Fu, 5, 3, 7);
}

static inline uint8_t encode_e4m3(uint32_t x) {
    uint32_t sign = (x >> 24) & 0x80u;
    uint32_t abs = x & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return (uint8_t)(sign | 0x7Fu);
    if (abs > 0x43E00000u) abs = 0x43E00000u;  // saturate to 448 (Inf included)
    return (uint8_t)(sign | round_magnitude(abs, 3, 7));
}

void qg_fp8_e4m3_to_f32_ref(const uint8_t *restrict src, float *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = f32_from_bits(decode_e4m3(src[i]));
}

void qg_f32_to_fp8_e4m3_ref(const float *restrict src, uint8_t *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = encode_e4m3(f32_bits(src[i]));
}

// MARK: - FP8 E5M2 (bias 15, 2 mantissa bits, IEEE-style Inf/NaN, max 57344): the top byte of an f16

void qg_fp8_e5m2_to_f32_ref(const uint8_t *restrict src, float *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = f32_from_bits(decode_f16((uint16_t)(src[i] << 8)));
}

void qg_f32_to_fp8_e5m2_ref(const float *restrict src, uint8_t *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t x = f32_bits(src[i]);
        uint32_t sign = (x >> 24) & 0x80u;
        uint32_t abs = x & 0x7FFFFFFFu;
        if (abs > 0x7F800000u) {
            dst[i] = (uint8_t)(sign | 0x7Eu);
            continue;
        }
        if (abs > 0x47600000u) abs = 0x47600000u;  // saturate to 57344 (Inf included)
        dst[i] = (uint8_t)(sign | round_magnitude(abs, 2, 15));
    }
}

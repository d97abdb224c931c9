// Conversions between f32 and the narrow float formats that checkpoints and artefacts store:
// IEEE binary16 (f16), bfloat16 (bf16), and the OCP 8-bit formats FP8 E4M3FN and FP8 E5M2.
//
// Naming: qg_<from>_to_<to>[_<variant>]. `_ref` is the scalar reference and the definition of
// the conversion; `_avx2` uses AVX2 (+F16C for f16); the bare name dispatches once to the best
// variant the CPU supports (QG_FORCE_REFERENCE=1 in the environment forces `_ref`). Every variant
// gives bit-identical results to `_ref` for every input, NaN included.
//
// Contract (all variants):
//  - Decoding is exact. A NaN decodes to a quiet f32 NaN with its sign and payload kept
//    (f16/E5M2 payload bits are shifted into the top of the f32 mantissa and the quiet bit is set,
//    as x86 F16C does); an E4M3FN NaN (S.1111.111) decodes to sign | 0x7FC00000.
//  - Encoding rounds to nearest, ties to even, with subnormals kept (no flush to zero).
//  - f16: overflow gives ±Inf (as IEEE and torch do); NaN gives sign | 0x7E00 | payload >> 13.
//  - bf16: NaN gives (bits >> 16) | 0x0040 (quiet, sign and top payload kept).
//  - E4M3FN: saturating. Finite values beyond ±448 and ±Inf give ±448 (0x7E/0xFE); NaN gives
//    sign | 0x7F. It has no infinity. This equals torch's `clamp(-448, 448).to(float8_e4m3fn)`.
//  - E5M2: saturating. Finite values beyond ±57344 and ±Inf give ±57344 (0x7B/0xFB); NaN gives
//    sign | 0x7E. This equals torch's `clamp(-57344, 57344).to(float8_e5m2)`.
//
// Shapes: every function converts `n` contiguous elements, src → dst; n ≥ 0; src and dst do not alias.
#ifndef QG_NUMERICS_H
#define QG_NUMERICS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Dispatched entry points

void qg_f16_to_f32(const uint16_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_f16(const float *restrict src, uint16_t *restrict dst, int64_t n);
void qg_bf16_to_f32(const uint16_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_bf16(const float *restrict src, uint16_t *restrict dst, int64_t n);
void qg_fp8_e4m3_to_f32(const uint8_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_fp8_e4m3(const float *restrict src, uint8_t *restrict dst, int64_t n);
void qg_fp8_e5m2_to_f32(const uint8_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_fp8_e5m2(const float *restrict src, uint8_t *restrict dst, int64_t n);

// MARK: - Scalar references (the definition of each conversion)

void qg_f16_to_f32_ref(const uint16_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_f16_ref(const float *restrict src, uint16_t *restrict dst, int64_t n);
void qg_bf16_to_f32_ref(const uint16_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_bf16_ref(const float *restrict src, uint16_t *restrict dst, int64_t n);
void qg_fp8_e4m3_to_f32_ref(const uint8_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_fp8_e4m3_ref(const float *restrict src, uint8_t *restrict dst, int64_t n);
void qg_fp8_e5m2_to_f32_ref(const uint8_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_fp8_e5m2_ref(const float *restrict src, uint8_t *restrict dst, int64_t n);

// MARK: - SIMD variants (x86-64 only; call only when qg_cpu_has_avx2_f16c() is true)

void qg_f16_to_f32_avx2(const uint16_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_f16_avx2(const float *restrict src, uint16_t *restrict dst, int64_t n);
void qg_bf16_to_f32_avx2(const uint16_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_bf16_avx2(const float *restrict src, uint16_t *restrict dst, int64_t n);
void qg_fp8_e4m3_to_f32_avx2(const uint8_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_fp8_e4m3_avx2(const float *restrict src, uint8_t *restrict dst, int64_t n);
void qg_fp8_e5m2_to_f32_avx2(const uint8_t *restrict src, float *restrict dst, int64_t n);
void qg_f32_to_fp8_e5m2_avx2(const float *restrict src, uint8_t *restrict dst, int64_t n);

// MARK: - CPU features

/// 1 when this CPU runs the `_avx2` variants (AVX2, F16C and FMA), else 0. Always 0 off x86-64.
int qg_cpu_has_avx2_f16c(void);

/// The widest vector ISA the CPU and OS support, as OpenBLAS's kernel families need it:
/// 3 = AVX-512 F/BW/VL/DQ/CD (SkylakeX), 2 = AVX2 + FMA (Haswell), 1 = AVX (Sandybridge), 0 = older or not x86-64.
int qg_cpu_vector_level(void);

/// The variant the dispatched entry points use: "avx2+f16c" or "reference".
const char *qg_numerics_variant(void);

#ifdef __cplusplus
}
#endif

#endif  // QG_NUMERICS_H

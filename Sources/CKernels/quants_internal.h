// Per-type entry points behind qg_quants.h; quants_dispatch.c routes to them.
// quantize: nrows rows of n_per_row values (a multiple of the block size), imatrix NULL or n_per_row weights.
// dequantize: n values, a multiple of the block size.
#ifndef QG_QUANTS_INTERNAL_H
#define QG_QUANTS_INTERNAL_H

#include "qg_quants.h"

#define QG_QUANT_DECLARE(t)                                                                                          \
    void qg_quantize_##t##_ref(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);  \
    void qg_quantize_##t##_avx2(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix); \
    void qg_dequantize_##t##_ref(const void *src, float *dst, int64_t n);                                            \
    void qg_dequantize_##t##_avx2(const void *src, float *dst, int64_t n);

QG_QUANT_DECLARE(q4_0)
QG_QUANT_DECLARE(q4_1)
QG_QUANT_DECLARE(q5_0)
QG_QUANT_DECLARE(q5_1)
QG_QUANT_DECLARE(q8_0)
QG_QUANT_DECLARE(q2_k)
QG_QUANT_DECLARE(q3_k)
QG_QUANT_DECLARE(q4_k)
QG_QUANT_DECLARE(q5_k)
QG_QUANT_DECLARE(q6_k)

/// 1 when the AVX2 variants may run (see dispatch.c).
int qg_simd_enabled(void);

#endif

// ggml block quantization: the GGUF tensor types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the k-quants
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, with block layouts and results bit-identical to llama.cpp's ggml.
//
// Type ids are ggml's (`enum ggml_type`). A row of `n_per_row` values is a whole number of blocks
// (32 values for the legacy types, 256 for the k-quants) stored back to back.
//
// Quantization: `imatrix` (n_per_row non-negative weights, one per column, or NULL) is the importance
// matrix. With NULL each type uses ggml's reference quantizer (`quantize_row_*_ref`); with weights, ggml's
// importance-weighted search (`quantize_*` with quant_weights), column j of every row weighted by
// imatrix[j] (times ggml's per-type data-dependent factor). Q8_0 ignores `imatrix`, as ggml does.
//
// Naming: `_ref` is the scalar definition; `_avx2` uses AVX2+FMA where that cannot change a bit of the
// result; the bare name dispatches (QG_FORCE_REFERENCE=1 forces `_ref`). Every variant gives results
// bit-identical to `_ref` for every input.
#ifndef QG_QUANTS_H
#define QG_QUANTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum qg_quant_type {
    QG_TYPE_Q4_0 = 2,
    QG_TYPE_Q4_1 = 3,
    QG_TYPE_Q5_0 = 6,
    QG_TYPE_Q5_1 = 7,
    QG_TYPE_Q8_0 = 8,
    QG_TYPE_Q2_K = 10,
    QG_TYPE_Q3_K = 11,
    QG_TYPE_Q4_K = 12,
    QG_TYPE_Q5_K = 13,
    QG_TYPE_Q6_K = 14,
};

/// Values per block (32 or 256), or 0 for a type this header does not handle.
int64_t qg_quant_block_values(int type);
/// Bytes per block, or 0 for a type this header does not handle.
size_t qg_quant_block_bytes(int type);

/// Quantizes `nrows` rows of `n_per_row` f32 values (row-major, contiguous) into `dst`.
/// `n_per_row` must be a multiple of the type's block size. Returns the bytes written
/// (nrows · n_per_row / block values · block bytes), or 0 for an unknown type or a bad row length.
size_t qg_quantize_rows(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qg_quantize_rows_ref(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);
size_t qg_quantize_rows_avx2(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix);

/// Dequantizes `n` values (a multiple of the block size) from `src` into `dst`. Returns 0 on success,
/// -1 for an unknown type or a bad count.
int qg_dequantize(int type, const void *src, float *dst, int64_t n);
int qg_dequantize_ref(int type, const void *src, float *dst, int64_t n);
int qg_dequantize_avx2(int type, const void *src, float *dst, int64_t n);

#ifdef __cplusplus
}
#endif

#endif

// Block sizes and runtime dispatch for the ggml block quantizers (qg_quants.h).
#include "quants_internal.h"

typedef void (*quantize_fn)(const float *, void *, int64_t, int64_t, const float *);
typedef void (*dequantize_fn)(const void *, float *, int64_t);

struct quant_entry {
    int type;
    int64_t values;
    size_t bytes;
    quantize_fn quantize_ref, quantize_avx2;
    dequantize_fn dequantize_ref, dequantize_avx2;
};

#define QG_ENTRY(id, t, values, bytes) \
    {id, values, bytes, qg_quantize_##t##_ref, qg_quantize_##t##_avx2, qg_dequantize_##t##_ref, qg_dequantize_##t##_avx2}

// Block bytes: legacy = f16 scale (+ f16 min) + packed quants (+ 32 high bits); k-quants as ggml-common.h lays them out.
static const struct quant_entry entries[] = {
    QG_ENTRY(QG_TYPE_Q4_0, q4_0, 32, 18),
    QG_ENTRY(QG_TYPE_Q4_1, q4_1, 32, 20),
    QG_ENTRY(QG_TYPE_Q5_0, q5_0, 32, 22),
    QG_ENTRY(QG_TYPE_Q5_1, q5_1, 32, 24),
    QG_ENTRY(QG_TYPE_Q8_0, q8_0, 32, 34),
    QG_ENTRY(QG_TYPE_Q2_K, q2_k, 256, 84),
    QG_ENTRY(QG_TYPE_Q3_K, q3_k, 256, 110),
    QG_ENTRY(QG_TYPE_Q4_K, q4_k, 256, 144),
    QG_ENTRY(QG_TYPE_Q5_K, q5_k, 256, 176),
    QG_ENTRY(QG_TYPE_Q6_K, q6_k, 256, 210),
};

static const struct quant_entry *find(int type) {
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        if (entries[i].type == type) return &entries[i];
    }
    return 0;
}

int64_t qg_quant_block_values(int type) {
    const struct quant_entry *e = find(type);
    return e ? e->values : 0;
}

size_t qg_quant_block_bytes(int type) {
    const struct quant_entry *e = find(type);
    return e ? e->bytes : 0;
}

static size_t quantize(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix,
                       int simd) {
    const struct quant_entry *e = find(type);
    if (!e || nrows < 0 || n_per_row <= 0 || n_per_row % e->values != 0) return 0;
    (simd ? e->quantize_avx2 : e->quantize_ref)(src, dst, nrows, n_per_row, imatrix);
    return (size_t)(nrows * (n_per_row / e->values)) * e->bytes;
}

static int dequantize(int type, const void *src, float *dst, int64_t n, int simd) {
    const struct quant_entry *e = find(type);
    if (!e || n < 0 || n % e->values != 0) return -1;
    (simd ? e->dequantize_avx2 : e->dequantize_ref)(src, dst, n);
    return 0;
}

size_t qg_quantize_rows(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return quantize(type, src, dst, nrows, n_per_row, imatrix, qg_simd_enabled());
}
size_t qg_quantize_rows_ref(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return quantize(type, src, dst, nrows, n_per_row, imatrix, 0);
}
size_t qg_quantize_rows_avx2(int type, const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return quantize(type, src, dst, nrows, n_per_row, imatrix, 1);
}
int qg_dequantize(int type, const void *src, float *dst, int64_t n) { return dequantize(type, src, dst, n, qg_simd_enabled()); }
int qg_dequantize_ref(int type, const void *src, float *dst, int64_t n) { return dequantize(type, src, dst, n, 0); }
int qg_dequantize_avx2(int type, const void *src, float *dst, int64_t n) { return dequantize(type, src, dst, n, 1); }

// AWQ group kernels (arXiv:2306.00978; AutoAWQ `AwqQuantizer.pseudo_quantize_tensor` and
// `_compute_best_clip`), row-major f32.
//
// AutoAWQ's grid, per group of `group` consecutive columns of a row, with AutoAWQ's f32 operations (its own runs
// cast each Linear to the model dtype, usually f16, first):
//   scale = max(max - min, 1e-5) / 15,  zero = clamp(-round_half_even(min / scale), 0, 15),
//   q = clamp(round_half_even(w / scale) + zero, 0, 15),  fake-quantized w = (q - zero) * scale.
// Unlike GPTQ's grid, the range is the group's own [min, max] (zero need not be inside it).
// Rows are independent: callers hand each call a chunk of rows and run chunks in parallel; every loop
// runs in a fixed order, so results do not depend on scheduling.
#ifndef QG_AWQ_H
#define QG_AWQ_H

#include <stdint.h>

// Fake-quantizes `rows` rows of `cols` columns: out = Q(w * s) / s with s the per-column scale
// (`column_scale`, [cols]; NULL for none), the AWQ α search's candidate weights.
void qg_awq_fake_quantize(const float *w, int64_t rows, int64_t cols, int64_t group, const float *column_scale,
                          float *out);

// Quantizes `rows` rows: codes [rows, cols]; scale and zero [rows, cols / group] (scale unrounded f32,
// zero an integer in 0...15 as float).
void qg_awq_quantize(const float *w, int64_t rows, int64_t cols, int64_t group, uint8_t *codes, float *scale,
                     float *zero);

// The clip search for `rows` rows: for every (row, group), the clamp bound max|w| * (1 - i / grid),
// i = 0 ..< steps, whose fake-quantized group (clamped to [-bound, bound], then gridded on its own
// min/max) minimises the mean over tokens of (x · (Q(clamp w) - w))^2, i.e. d^T G d with
// G = X^T X / tokens restricted to the group. The first bound is kept on ties (strict <).
//   gram: [cols / group][group * group], each group's G (row-major, symmetric).
//   best: [rows, cols / group] the chosen bounds.
void qg_awq_clip_search(const float *w, int64_t rows, int64_t cols, int64_t group, const float *gram, int32_t steps,
                        int32_t grid, float *best);

#endif

// GPTQ column kernels (arXiv:2210.17323, Algorithm 1; IST-DASLab/gptq `fasterquant`), row-major f32.
//
// A weight matrix is swept column by column in blocks; the rows are independent given the inverse
// Hessian factor U, so callers give each kernel a fixed chunk of rows and run chunks in parallel.
// Every loop is in a fixed order: the result does not depend on how chunks are scheduled.
#ifndef QG_GPTQ_H
#define QG_GPTQ_H

#include <stdint.h>

// The min-max grid of GPTQ's quantizer (`Quantizer.find_params`) for each of `rows` rows over
// `count` columns of `w` (row stride `ldw`), with `maxq = 2^bits - 1`:
//   xmin = min(row min, 0), xmax = max(row max, 0);
//   symmetric: xmax = max(|xmin|, xmax), and xmin = -xmax when xmin < 0; zero = (maxq + 1) / 2;
//   a row of zeros gets xmin = -1, xmax = 1; scale = (xmax - xmin) / maxq;
//   asymmetric: zero = round_half_even(-xmin / scale), then at least `zero_floor`.
// Writes scale[r] and zero[r] (an integer, as float).
void qg_gptq_fit_rows(const float *w, int64_t ldw, int64_t rows, int64_t count, int32_t maxq, int symmetric,
                      int32_t zero_floor, float *scale, float *zero);

// Sweeps columns [c0, c1) of a block of `count` columns for `rows` rows.
//   w1:   the block's working weights, [rows, count] with row stride ldw; columns after each swept one
//         receive its error (`w1[r, j] -= e * u[i, j]`, j > i).
//   u:    the block's diagonal block of the upper Cholesky factor of H^-1, [count, count], stride ldu;
//         NULL for round-to-nearest (d = 1, no error feedback).
//   scale, zero: grid parameters; column i uses scale[param[i] * ldp + r] and zero[...] alike.
//   codes: q = clamp(round_half_even(w / scale) + zero, 0, maxq), [rows, count] stride ldq.
//   err:  e = (w - scale * (q - zero)) / u[i, i], [rows, count] stride lde (may be NULL when u is NULL).
//   loss: adds sum over the swept columns of (w - dequantized)^2 / d^2 / 2 per row into loss[r].
void qg_gptq_sweep(float *w1, int64_t ldw, int64_t rows, int64_t c0, int64_t c1, int64_t count,
                   const float *u, int64_t ldu, const float *scale, const float *zero, const int32_t *param,
                   int64_t ldp, int32_t maxq, uint8_t *codes, int64_t ldq, float *err, int64_t lde, double *loss);

#endif

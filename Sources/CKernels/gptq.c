#include "qg_gptq.h"

#include <math.h>

void qg_gptq_fit_rows(const float *w, int64_t ldw, int64_t rows, int64_t count, int32_t maxq, int symmetric,
                      int32_t zero_floor, float *scale, float *zero) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = w + r * ldw;
        float xmin = 0, xmax = 0;
        for (int64_t c = 0; c < count; c++) {
            xmin = fminf(xmin, row[c]);
            xmax = fmaxf(xmax, row[c]);
        }
        if (symmetric) {
            xmax = fmaxf(fabsf(xmin), xmax);
            if (xmin < 0) xmin = -xmax;
        }
        if (xmin == 0 && xmax == 0) {
            xmin = -1;
            xmax = 1;
        }
        const float s = (xmax - xmin) / (float)maxq;
        float z = symmetric ? (float)((maxq + 1) / 2) : rintf(-xmin / s);
        if (z < (float)zero_floor) z = (float)zero_floor;
        scale[r] = s;
        zero[r] = z;
    }
}

void qg_gptq_sweep(float *w1, int64_t ldw, int64_t rows, int64_t c0, int64_t c1, int64_t count,
                   const float *u, int64_t ldu, const float *scale, const float *zero, const int32_t *param,
                   int64_t ldp, int32_t maxq, uint8_t *codes, int64_t ldq, float *err, int64_t lde, double *loss) {
    const float top = (float)maxq;
    for (int64_t r = 0; r < rows; r++) {
        float *row = w1 + r * ldw;
        double row_loss = 0;
        for (int64_t i = c0; i < c1; i++) {
            const float s = scale[(int64_t)param[i] * ldp + r];
            const float z = zero[(int64_t)param[i] * ldp + r];
            const float x = row[i];
            float q = rintf(x / s) + z;
            q = q < 0 ? 0 : (q > top ? top : q);
            const float delta = x - s * (q - z);
            codes[r * ldq + i] = (uint8_t)q;
            if (u == 0) {
                row_loss += (double)(delta * delta) / 2;
                continue;
            }
            const float *urow = u + i * ldu;
            const float d = urow[i];
            const float e = delta / d;
            row_loss += (double)(delta * delta / (d * d)) / 2;
            err[r * lde + i] = e;
            for (int64_t j = i + 1; j < count; j++) row[j] -= e * urow[j];
        }
        loss[r] += row_loss;
    }
}

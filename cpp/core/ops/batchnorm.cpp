// Batch normalisation (Ioffe & Szegedy 2015) over the rows of [N, C]: one mean and variance per
// channel c, taken over all N rows (for a conv, N = B*H*W positions; for the mlp, N = B samples),
// as PyTorch's BatchNorm1d/2d. Train mode normalises with the batch's biased variance and updates
// the running statistics with PyTorch's rule: running = (1 - momentum) * running + momentum * batch,
// the variance there being the unbiased one (N / (N - 1)). Eval mode uses the running statistics.
#include <algorithm>
#include <cmath>

#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void batchnorm_forward(float* out, float* mean, float* rstd, float* running_mean, float* running_var, const float* in,
                       const float* w, const float* b, int N, int C, float eps, float momentum, bool train) {
  CMapMat x(in, N, C);
  MapRow m(mean, C), r(rstd, C);
  if (train) {
    m.setZero();  // row by row: a colwise() reduction of a row-major map would allocate a temporary
    for (int i = 0; i < N; ++i) m += x.row(i);
    m *= 1.0f / static_cast<float>(N);
    r.setZero();
    for (int i = 0; i < N; ++i) r += (x.row(i) - m).array().square().matrix();  // sum of squares, per channel
    const float unbias = static_cast<float>(N) / static_cast<float>(std::max(N - 1, 1));
    MapRow rm(running_mean, C), rv(running_var, C);
    for (int c = 0; c < C; ++c) {
      const float var = r[c] / static_cast<float>(N);
      rm[c] = (1.0f - momentum) * rm[c] + momentum * m[c];
      rv[c] = (1.0f - momentum) * rv[c] + momentum * var * unbias;
      r[c] = 1.0f / std::sqrt(var + eps);
    }
  } else {
    for (int c = 0; c < C; ++c) {
      m[c] = running_mean[c];
      r[c] = 1.0f / std::sqrt(running_var[c] + eps);
    }
  }
  MapMat y(out, N, C);
  // y = (x - m) * (r * w) + b, row by row; no temporaries.
  for (int i = 0; i < N; ++i)
    y.row(i) = ((x.row(i) - m).array() * r.array() * CMapRow(w, C).array() + CMapRow(b, C).array()).matrix();
}

void batchnorm_backward(float* din, float* dw, float* db, float* scratch, const float* dout, const float* in,
                        const float* w, const float* mean, const float* rstd, int N, int C) {
  CMapMat x(in, N, C), dy(dout, N, C);
  CMapRow m(mean, C), r(rstd, C), wr(w, C);
  MapRow sum_dy(scratch, C), sum_dy_xhat(scratch + C, C);
  sum_dy.setZero();
  sum_dy_xhat.setZero();
  for (int i = 0; i < N; ++i) {
    sum_dy += dy.row(i);
    sum_dy_xhat += (dy.row(i).array() * (x.row(i) - m).array() * r.array()).matrix();
  }
  MapRow(dw, C) += sum_dy_xhat;
  MapRow(db, C) += sum_dy;
  // din = w * r * (dy - mean(dy) - xhat * mean(dy * xhat)), means over the N rows.
  const float inv_n = 1.0f / static_cast<float>(N);
  MapMat dx(din, N, C);
  for (int i = 0; i < N; ++i)
    dx.row(i).array() += wr.array() * r.array() *
                         (dy.row(i).array() - sum_dy.array() * inv_n -
                          (x.row(i) - m).array() * r.array() * sum_dy_xhat.array() * inv_n);
}

}  // namespace resnorm

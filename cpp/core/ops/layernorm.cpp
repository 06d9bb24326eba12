// LayerNorm (Ba, Kiros & Hinton 2016), forward and backward, one row at a time.
// Variance is the biased (1/C) one, as in PyTorch; eps sits inside the square root. Rows run on the
// thread pool; dw and db, sums over rows, stay one sequential pass in row order (see parallel.h).
#include <cmath>

#include "../parallel.h"
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void layernorm_forward(float* out, float* mean, float* rstd, const float* in, const float* w, const float* b, int N,
                       int C, float eps) {
  CMapArr wa(w, C), ba(b, C);
  parallel_rows(N, 8.0 * C, [&](int r0, int n) {
  for (int i = r0; i < r0 + n; ++i) {
    CMapArr x(in + static_cast<size_t>(i) * C, C);
    const float m = x.mean();
    const float var = (x - m).square().mean();
    const float r = 1.0f / std::sqrt(var + eps);
    MapArr(out + static_cast<size_t>(i) * C, C) = (x - m) * r * wa + ba;
    mean[i] = m;
    rstd[i] = r;
  }
  });
}

void layernorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                        const float* mean, const float* rstd, int N, int C) {
  CMapArr wa(w, C);
  MapArr dwa(dw, C), dba(db, C);
  if (threads() > 1) {
    // din row by row on the pool, then dw and db in one pass in row order: the same expressions as
    // the fused loop below, so the same bits.
    parallel_rows(N, 12.0 * C, [&](int r0, int n) {
      for (int i = r0; i < r0 + n; ++i) {
        const size_t o = static_cast<size_t>(i) * C;
        CMapArr x(in + o, C), dy(dout + o, C);
        const float m = mean[i], r = rstd[i];
        const float mean_d = (dy * wa).mean();
        const float mean_dx = (dy * wa * (x - m)).mean() * r;
        MapArr(din + o, C) += r * (dy * wa - mean_d - (x - m) * (r * mean_dx));
      }
    });
    for (int i = 0; i < N; ++i) {
      const size_t o = static_cast<size_t>(i) * C;
      CMapArr x(in + o, C), dy(dout + o, C);
      dwa += dy * (x - mean[i]) * rstd[i];
      dba += dy;
    }
    return;
  }
  for (int i = 0; i < N; ++i) {
    const size_t o = static_cast<size_t>(i) * C;
    CMapArr x(in + o, C), dy(dout + o, C);
    const float m = mean[i], r = rstd[i];
    // xhat = (x - m) * r and dxhat = dy * w stay expressions: no temporaries, no allocation.
    const float mean_d = (dy * wa).mean();
    const float mean_dx = (dy * wa * (x - m)).mean() * r;
    dwa += dy * (x - m) * r;
    dba += dy;
    MapArr(din + o, C) += r * (dy * wa - mean_d - (x - m) * (r * mean_dx));
  }
}

}  // namespace resnorm

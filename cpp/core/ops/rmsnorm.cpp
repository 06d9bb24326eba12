// RMSNorm (Zhang & Sennrich 2019), forward and backward: LayerNorm without the mean and bias.
// Rows run on the thread pool; dw, a sum over rows, stays one sequential pass in row order.
#include <cmath>

#include "../parallel.h"
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void rmsnorm_forward(float* out, float* rstd, const float* in, const float* w, int N, int C, float eps) {
  CMapArr wa(w, C);
  parallel_rows(N, 6.0 * C, [&](int r0, int n) {
    for (int i = r0; i < r0 + n; ++i) {
      CMapArr x(in + static_cast<size_t>(i) * C, C);
      const float r = 1.0f / std::sqrt(x.square().mean() + eps);
      MapArr(out + static_cast<size_t>(i) * C, C) = x * r * wa;
      rstd[i] = r;
    }
  });
}

void rmsnorm_backward(float* din, float* dw, const float* dout, const float* in, const float* w, const float* rstd,
                      int N, int C) {
  CMapArr wa(w, C);
  MapArr dwa(dw, C);
  if (threads() > 1) {
    // din on the pool, then dw in row order: the fused loop's expressions, so the same bits.
    parallel_rows(N, 8.0 * C, [&](int r0, int n) {
      for (int i = r0; i < r0 + n; ++i) {
        const size_t o = static_cast<size_t>(i) * C;
        CMapArr x(in + o, C), dy(dout + o, C);
        const float r = rstd[i];
        const float mean_dx = (dy * wa * x).mean() * r;
        MapArr(din + o, C) += r * (dy * wa - x * (r * mean_dx));
      }
    });
    for (int i = 0; i < N; ++i) {
      const size_t o = static_cast<size_t>(i) * C;
      dwa += CMapArr(dout + o, C) * CMapArr(in + o, C) * rstd[i];
    }
    return;
  }
  for (int i = 0; i < N; ++i) {
    const size_t o = static_cast<size_t>(i) * C;
    CMapArr x(in + o, C), dy(dout + o, C);
    const float r = rstd[i];
    const float mean_dx = (dy * wa * x).mean() * r;
    dwa += dy * x * r;
    MapArr(din + o, C) += r * (dy * wa - x * (r * mean_dx));
  }
}

}  // namespace resnorm

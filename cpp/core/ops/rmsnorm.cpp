// RMSNorm (Zhang & Sennrich 2019), forward and backward: LayerNorm without the mean and bias.
#include <cmath>

#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void rmsnorm_forward(float* out, float* rstd, const float* in, const float* w, int N, int C, float eps) {
  CMapArr wa(w, C);
  for (int i = 0; i < N; ++i) {
    CMapArr x(in + static_cast<size_t>(i) * C, C);
    const float r = 1.0f / std::sqrt(x.square().mean() + eps);
    MapArr(out + static_cast<size_t>(i) * C, C) = x * r * wa;
    rstd[i] = r;
  }
}

void rmsnorm_backward(float* din, float* dw, const float* dout, const float* in, const float* w, const float* rstd,
                      int N, int C) {
  CMapArr wa(w, C);
  MapArr dwa(dw, C);
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

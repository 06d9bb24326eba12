// Global average pooling over the spatial positions of an NHWC tensor, forward and backward
// (the ResNet's last layer before the linear head, He et al. 2016).
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void global_avgpool_forward(float* out, const float* in, int B, int HW, int C) {
  // Row by row (a colwise() reduction of a row-major map would evaluate into a heap temporary).
  for (int b = 0; b < B; ++b) {
    MapRow o(out + static_cast<size_t>(b) * C, C);
    CMapMat x(in + static_cast<size_t>(b) * HW * C, HW, C);
    o.setZero();
    for (int p = 0; p < HW; ++p) o += x.row(p);
    o *= 1.0f / static_cast<float>(HW);
  }
}

void global_avgpool_backward(float* din, const float* dout, int B, int HW, int C) {
  const float s = 1.0f / static_cast<float>(HW);
  for (int b = 0; b < B; ++b) {  // row by row: rowwise() += expr would evaluate expr into a heap temporary
    MapMat dx(din + static_cast<size_t>(b) * HW * C, HW, C);
    CMapRow dy(dout + static_cast<size_t>(b) * C, C);
    for (int p = 0; p < HW; ++p) dx.row(p) += s * dy;
  }
}

}  // namespace resnorm

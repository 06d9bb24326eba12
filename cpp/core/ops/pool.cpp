// Global average pooling over the spatial positions of an NHWC tensor, forward and backward
// (the ResNet's last layer before the linear head, He et al. 2016).
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void global_avgpool_forward(float* out, const float* in, int B, int HW, int C) {
  for (int b = 0; b < B; ++b)
    MapRow(out + static_cast<size_t>(b) * C, C) =
        CMapMat(in + static_cast<size_t>(b) * HW * C, HW, C).colwise().sum() / static_cast<float>(HW);
}

void global_avgpool_backward(float* din, const float* dout, int B, int HW, int C) {
  const float s = 1.0f / static_cast<float>(HW);
  for (int b = 0; b < B; ++b)
    MapMat(din + static_cast<size_t>(b) * HW * C, HW, C).rowwise() += CMapRow(dout + static_cast<size_t>(b) * C, C) * s;
}

}  // namespace resnorm

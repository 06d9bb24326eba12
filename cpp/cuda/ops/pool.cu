// Global average pooling on the GPU (mirrors cpp/core/ops/pool.cpp): [B,HW,C] -> [B,C], forward one
// thread per (b, c) summing the HW positions in order then scaling by 1/HW, as the CPU core rounds it;
// backward din[b,p,c] += dout[b,c] / HW.
#include <algorithm>

#include "common.cuh"
#include "cuda_ops.h"

namespace resnorm {
namespace cuda {

namespace {

__global__ void avgpool_fwd_kernel(float* out, const float* in, int B, int HW, int C) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(B) * C) return;
  const size_t b = i / C;
  const int c = static_cast<int>(i % C);
  const float* x = in + b * HW * C + c;
  float s = 0.0f;
  for (int p = 0; p < HW; ++p) s += x[static_cast<size_t>(p) * C];
  out[i] = s * (1.0f / static_cast<float>(HW));
}

__global__ void avgpool_bwd_kernel(float* din, const float* dout, int HW, int C, size_t n) {
  const float s = 1.0f / static_cast<float>(HW);
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t b = i / (static_cast<size_t>(HW) * C);
    din[i] += s * dout[b * C + i % C];
  }
}

}  // namespace

void global_avgpool_forward(float* out, const float* in, int B, int HW, int C, Ctx& ctx) {
  const size_t n = static_cast<size_t>(B) * C;
  if (n == 0) return;
  avgpool_fwd_kernel<<<ceil_div(static_cast<long long>(n), 128), 128, 0, ctx.stream>>>(out, in, B, HW, C);
  RESNORM_CHECK_LAUNCH("global_avgpool_forward");
}

void global_avgpool_backward(float* din, const float* dout, int B, int HW, int C, Ctx& ctx) {
  const size_t n = static_cast<size_t>(B) * HW * C;
  if (n == 0) return;
  const int grid = std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 16 * ctx.sms));
  avgpool_bwd_kernel<<<grid, 256, 0, ctx.stream>>>(din, dout, HW, C, n);
  RESNORM_CHECK_LAUNCH("global_avgpool_backward");
}

}  // namespace cuda
}  // namespace resnorm

// Softmax cross-entropy on the GPU (mirrors cpp/core/ops/cross_entropy.cpp): one warp per row for the
// probabilities (max subtracted) and the row's -log p(target); the mean over rows is a separate,
// fixed-order double reduction; backward adds probs/N - onehot/N into dlogits.
#include <algorithm>

#include "common.cuh"
#include "cuda_ops.h"

namespace resnorm {
namespace cuda {

namespace {

__global__ void ce_fwd_kernel(float* probs, float* losses, const float* logits, const int* targets, int N, int V) {
  const int warps = blockDim.x / kWarp, lane = threadIdx.x % kWarp;
  const int row = blockIdx.x * warps + threadIdx.x / kWarp;
  if (row >= N) return;
  const float* z = logits + static_cast<size_t>(row) * V;
  float* p = probs + static_cast<size_t>(row) * V;
  float m = -INFINITY;
  for (int j = lane; j < V; j += kWarp) m = fmaxf(m, z[j]);
  m = warp_max(m);
  float s = 0.0f;
  for (int j = lane; j < V; j += kWarp) s += expf(z[j] - m);
  s = warp_sum(s);
  for (int j = lane; j < V; j += kWarp) p[j] = expf(z[j] - m) / s;
  if (targets && lane == 0) losses[row] = logf(s) + m - z[targets[row]];
}

__global__ void ce_bwd_kernel(float* dlogits, const float* probs, const int* targets, int N, int V) {
  const float inv = 1.0f / static_cast<float>(N);
  const size_t n = static_cast<size_t>(N) * V;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t row = i / V;
    float d = dlogits[i] + probs[i] * inv;
    if (static_cast<int>(i - row * V) == targets[row]) d -= inv;
    dlogits[i] = d;
  }
}

__global__ void __launch_bounds__(1024) mean_loss_kernel(double* out, const float* losses, int N) {
  __shared__ double sh[32];
  double s = 0.0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) s += losses[i];
  s = block_sum(s, sh);
  if (threadIdx.x == 0) *out = s / N;
}

}  // namespace

void cross_entropy_forward(float* probs, float* losses, const float* logits, const int* targets, int N, int V,
                           Ctx& ctx) {
  if (N <= 0) return;
  ce_fwd_kernel<<<ceil_div(N, 8), 256, 0, ctx.stream>>>(probs, losses, logits, targets, N, V);
  RESNORM_CHECK_LAUNCH("cross_entropy_forward");
}

void cross_entropy_backward(float* dlogits, const float* probs, const int* targets, int N, int V, Ctx& ctx) {
  if (N <= 0) return;
  const size_t n = static_cast<size_t>(N) * V;
  const int grid = std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 16 * ctx.sms));
  ce_bwd_kernel<<<grid, 256, 0, ctx.stream>>>(dlogits, probs, targets, N, V);
  RESNORM_CHECK_LAUNCH("cross_entropy_backward");
}

void mean_loss(double* out, const float* losses, int N, Ctx& ctx) {
  mean_loss_kernel<<<1, 1024, 0, ctx.stream>>>(out, losses, N);
  RESNORM_CHECK_LAUNCH("mean_loss");
}

}  // namespace cuda
}  // namespace resnorm

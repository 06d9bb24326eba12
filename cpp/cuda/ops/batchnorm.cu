// BatchNorm on the GPU (mirrors cpp/core/ops/batchnorm.cpp; Ioffe & Szegedy 2015, PyTorch's
// BatchNorm1d/2d semantics): per-channel statistics over the N rows of [N,C] (for a conv, N = B*H*W
// positions). One block per channel reduces its column in a fixed order (double partial sums, then
// the block's fixed-order tree), so a run repeats bit for bit; the running statistics follow PyTorch's
// rule running = (1 - momentum) running + momentum batch, with the unbiased variance N / (N - 1).
// The backward is one block per channel too: it sums dy and dy*xhat over the column, adds them into
// dw / db, and writes din in the same block, so nothing but the gradients touches memory.
#include <algorithm>

#include "common.cuh"
#include "cuda_ops.h"

namespace resnorm {
namespace cuda {

namespace {

constexpr int kThreads = 256;

// Column c of [N,C]: mean and 1/std (train: of the batch, running statistics updated; eval: the
// running ones). running = running_mean [C] | running_var [C] | num_batches_tracked [1].
__global__ void bn_stats_kernel(float* mean, float* rstd, float* running, const float* in, int N, int C, float eps,
                                float momentum, int train) {
  __shared__ double sh[32];
  const int c = blockIdx.x;
  float* rm = running;
  float* rv = running + C;
  if (!train) {
    if (threadIdx.x == 0) {
      mean[c] = rm[c];
      rstd[c] = 1.0f / sqrtf(rv[c] + eps);
    }
    return;
  }
  double s = 0.0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) s += in[static_cast<size_t>(i) * C + c];
  const float m = static_cast<float>(block_sum(s, sh) / N);
  double q = 0.0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) {
    const double d = static_cast<double>(in[static_cast<size_t>(i) * C + c]) - m;
    q += d * d;
  }
  const float var = static_cast<float>(block_sum(q, sh) / N);
  if (threadIdx.x == 0) {
    const float unbias = static_cast<float>(N) / static_cast<float>(max(N - 1, 1));
    mean[c] = m;
    rstd[c] = 1.0f / sqrtf(var + eps);
    rm[c] = __fadd_rn(__fmul_rn(1.0f - momentum, rm[c]), __fmul_rn(momentum, m));
    rv[c] = __fadd_rn(__fmul_rn(1.0f - momentum, rv[c]), __fmul_rn(momentum, __fmul_rn(var, unbias)));
    if (c == 0) running[2 * C] += 1.0f;  // num_batches_tracked
  }
}

// out = (x - mean) * rstd * w + b, as the CPU core rounds it (no fused multiply-add).
__global__ void bn_apply_kernel(float* out, const float* in, const float* mean, const float* rstd, const float* w,
                                const float* b, size_t n, int C) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(i % C);
    out[i] = __fadd_rn(__fmul_rn(__fmul_rn(in[i] - mean[c], rstd[c]), w[c]), b[c]);
  }
}

// din += w r (dy - mean(dy) - xhat mean(dy xhat)); dw += sum(dy xhat); db += sum(dy). One block per channel.
__global__ void bn_bwd_kernel(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                              const float* mean, const float* rstd, int N, int C) {
  __shared__ double sh[32];
  const int c = blockIdx.x;
  const float m = mean[c], r = rstd[c];
  double sdy = 0.0, sdx = 0.0;
  for (int i = threadIdx.x; i < N; i += blockDim.x) {
    const size_t k = static_cast<size_t>(i) * C + c;
    const float dy = dout[k];
    sdy += dy;
    sdx += static_cast<double>(dy) * ((in[k] - m) * r);
  }
  const float sum_dy = static_cast<float>(block_sum(sdy, sh));
  const float sum_dyx = static_cast<float>(block_sum(sdx, sh));
  if (threadIdx.x == 0) {
    dw[c] += sum_dyx;
    db[c] += sum_dy;
  }
  const float inv_n = 1.0f / static_cast<float>(N), wr = w[c] * r;
  for (int i = threadIdx.x; i < N; i += blockDim.x) {
    const size_t k = static_cast<size_t>(i) * C + c;
    din[k] += wr * (dout[k] - sum_dy * inv_n - (in[k] - m) * r * sum_dyx * inv_n);
  }
}

}  // namespace

void batchnorm_forward(float* out, float* mean, float* rstd, float* running, const float* in, const float* w,
                       const float* b, int N, int C, float eps, float momentum, bool train, Ctx& ctx) {
  if (N <= 0 || C <= 0) return;
  bn_stats_kernel<<<C, kThreads, 0, ctx.stream>>>(mean, rstd, running, in, N, C, eps, momentum, train ? 1 : 0);
  RESNORM_CHECK_LAUNCH("batchnorm_forward/stats");
  const size_t n = static_cast<size_t>(N) * C;
  const int grid = std::max(1, std::min(ceil_div(static_cast<long long>(n), kThreads), 8 * ctx.sms));
  bn_apply_kernel<<<grid, kThreads, 0, ctx.stream>>>(out, in, mean, rstd, w, b, n, C);
  RESNORM_CHECK_LAUNCH("batchnorm_forward/apply");
}

void batchnorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                        const float* mean, const float* rstd, int N, int C, Ctx& ctx) {
  if (N <= 0 || C <= 0) return;
  bn_bwd_kernel<<<C, kThreads, 0, ctx.stream>>>(din, dw, db, dout, in, w, mean, rstd, N, C);
  RESNORM_CHECK_LAUNCH("batchnorm_backward");
}

}  // namespace cuda
}  // namespace resnorm

// 2-D convolution (no bias) on the GPU, mirroring cpp/core/ops/conv2d.cpp: NHWC activations, PyTorch's
// weight layout [OC, IC, K, K], im2col columns ordered (ci, kh, kw) so that the product is exactly
// linear.cu's GEMM (cuBLAS): out[B*Ho*Wo, OC] = cols @ w^T; backward dw += dout^T cols, dcols = dout w.
// The adjoint of im2col (col2im) is written as a gather, one thread per input element summing the
// column entries that copied it in a fixed (kh, kw) order: no atomics, so a run repeats bit for bit.
// The per-element index arithmetic lives in conv_index.h, which the [backend] tests (tests/cpp) run on the CPU.
// cols / dcols live in Ctx::conv_scratch (2 x [B*Ho*Wo, IC*K*K], sized from ModelPlan::scratch).
#include <algorithm>
#include <stdexcept>

#include "common.cuh"
#include "conv_index.h"
#include "cuda_ops.h"

namespace resnorm {
namespace cuda {

namespace {

__global__ void im2col_kernel(float* cols, const float* in, int H, int IC, int K, int S, int P, int Ho, size_t total) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    cols[i] = im2col_element(in, i, H, IC, K, S, P, Ho);
}

__global__ void col2im_kernel(float* din, const float* dcols, int H, int IC, int K, int S, int P, int Ho, size_t total) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    din[i] += col2im_element(dcols, i, H, IC, K, S, P, Ho);
}

int grid_for(size_t n, int sms) { return std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 16 * sms)); }

void im2col(float* cols, const float* in, int B, int H, int IC, int K, int S, int P, int Ho, Ctx& ctx) {
  const size_t total = static_cast<size_t>(B) * Ho * Ho * IC * K * K;
  im2col_kernel<<<grid_for(total, ctx.sms), 256, 0, ctx.stream>>>(cols, in, H, IC, K, S, P, Ho, total);
  RESNORM_CHECK_LAUNCH("conv2d/im2col");
}

}  // namespace

int conv_out(int in, int K, int S, int P) { return (in + 2 * P - K) / S + 1; }

void conv2d_forward(float* out, const float* in, const float* w, int B, int H, int IC, int OC, int K, int S, int P,
                    Ctx& ctx) {
  const int Ho = conv_out(H, K, S, P), RL = IC * K * K, rows = B * Ho * Ho;
  if (rows <= 0) return;
  if (static_cast<size_t>(rows) * RL > ctx.conv_scratch_floats) throw std::runtime_error("conv2d_forward: scratch too small");
  im2col(ctx.conv_scratch, in, B, H, IC, K, S, P, Ho, ctx);
  linear_forward(out, ctx.conv_scratch, w, nullptr, rows, RL, OC, ctx);
}

void conv2d_backward(float* din, float* dw, const float* dout, const float* in, const float* w, int B, int H, int IC,
                     int OC, int K, int S, int P, Ctx& ctx) {
  const int Ho = conv_out(H, K, S, P), RL = IC * K * K, rows = B * Ho * Ho;
  if (rows <= 0) return;
  const size_t n = static_cast<size_t>(rows) * RL;
  if (2 * n > ctx.conv_scratch_floats) throw std::runtime_error("conv2d_backward: scratch too small");
  float* cols = ctx.conv_scratch;
  float* dcols = ctx.conv_scratch + n;
  im2col(cols, in, B, H, IC, K, S, P, Ho, ctx);
  if (din) RESNORM_CUDA_CHECK(cudaMemsetAsync(dcols, 0, sizeof(float) * n, ctx.stream));
  linear_backward(din ? dcols : nullptr, dw, nullptr, dout, cols, w, rows, RL, OC, ctx);
  if (din) {
    const size_t total = static_cast<size_t>(B) * H * H * IC;
    col2im_kernel<<<grid_for(total, ctx.sms), 256, 0, ctx.stream>>>(din, dcols, H, IC, K, S, P, Ho, total);
    RESNORM_CHECK_LAUNCH("conv2d/col2im");
  }
}

}  // namespace cuda
}  // namespace resnorm

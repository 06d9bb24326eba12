// Token + learned position embedding on the GPU (mirrors cpp/core/ops/embedding.cpp). The backward
// is a gather, not a scatter: the position gradient sums over the batch per (t, c); the token gradient
// sums, per (token, c), the rows the host grouped by token (llm.c's bucketed encoder backward idea), so
// it needs no atomics and gives the same bits every run.
#include <algorithm>

#include "common.cuh"
#include "cuda_ops.h"

namespace resnorm {
namespace cuda {

namespace {

__global__ void embedding_fwd_kernel(float* out, const int* tokens, const float* wte, const float* wpe, int T, int C,
                                     size_t n) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t r = i / C;
    const int c = static_cast<int>(i % C), t = static_cast<int>(r % T);
    out[i] = wte[static_cast<size_t>(tokens[r]) * C + c] + wpe[static_cast<size_t>(t) * C + c];
  }
}

__global__ void embedding_fwd_vec(float* out, const int* tokens, const float* wte, const float* wpe, int T, int C4,
                                  size_t n4) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n4;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const size_t r = i / C4;
    const int c = static_cast<int>(i % C4) * 4, t = static_cast<int>(r % T), C = 4 * C4;
    const float4 a = ldg4(wte + static_cast<size_t>(tokens[r]) * C + c), b = ldg4(wpe + static_cast<size_t>(t) * C + c);
    st4(out + 4 * i, make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w));
  }
}

// dwpe[t, c] += sum over b of dout[b, t, c]
__global__ void wpe_bwd_kernel(float* dwpe, const float* dout, int B, int T, int C) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<size_t>(T) * C) return;
  float s = 0.0f;
  for (int b = 0; b < B; ++b) s += dout[static_cast<size_t>(b) * T * C + i];
  dwpe[i] += s;
}

// dwte[v, c] += sum of dout[r, c] over the rows r of token v. Block (v, tile of 32 columns): warp w
// sums rows w, w+8, ... of the group, then the 8 warp sums are added in order.
__global__ void __launch_bounds__(256) wte_bwd_kernel(float* dwte, const float* dout, const int* rows,
                                                      const int* start, int C) {
  __shared__ float sh[8][kWarp];
  const int v = blockIdx.x, lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int c = blockIdx.y * kWarp + lane;
  const int lo = start[v], hi = start[v + 1];
  if (lo == hi) return;  // the same for the whole block
  float s = 0.0f;
  if (c < C) {
#pragma unroll 4
    for (int j = lo + warp; j < hi; j += 8) s += dout[static_cast<size_t>(rows[j]) * C + c];
  }
  sh[warp][lane] = s;
  __syncthreads();
  if (warp == 0 && c < C) {
    float t = 0.0f;
    for (int w = 0; w < 8; ++w) t += sh[w][lane];
    dwte[static_cast<size_t>(v) * C + c] += t;
  }
}

}  // namespace

void embedding_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T, int C,
                       Ctx& ctx) {
  const size_t n = static_cast<size_t>(B) * T * C;
  if (n == 0) return;
  if (C % 4 == 0 && aligned16(out) && aligned16(wte) && aligned16(wpe)) {
    const size_t n4 = n / 4;
    const int grid = std::max(1, std::min(ceil_div(static_cast<long long>(n4), 256), 16 * ctx.sms));
    embedding_fwd_vec<<<grid, 256, 0, ctx.stream>>>(out, tokens, wte, wpe, T, C / 4, n4);
  } else {
    const int grid = std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 16 * ctx.sms));
    embedding_fwd_kernel<<<grid, 256, 0, ctx.stream>>>(out, tokens, wte, wpe, T, C, n);
  }
  RESNORM_CHECK_LAUNCH("embedding_forward");
}

void embedding_backward(float* dwte, float* dwpe, const float* dout, const int* tokens, const int* bucket_rows,
                        const int* bucket_start, int B, int T, int C, int V, Ctx& ctx) {
  (void)tokens;
  if (static_cast<long long>(B) * T * C == 0) return;
  wpe_bwd_kernel<<<ceil_div(static_cast<long long>(T) * C, 256), 256, 0, ctx.stream>>>(dwpe, dout, B, T, C);
  RESNORM_CHECK_LAUNCH("embedding_backward/wpe");
  const dim3 grid(static_cast<unsigned>(V), static_cast<unsigned>(ceil_div(C, kWarp)));
  wte_bwd_kernel<<<grid, 256, 0, ctx.stream>>>(dwte, dout, bucket_rows, bucket_start, C);
  RESNORM_CHECK_LAUNCH("embedding_backward/wte");
}

}  // namespace cuda
}  // namespace resnorm

// The per-step statistics on the GPU (Trainer::step's diagnostics): sums of squares per segment of a
// flat block (the gradient per parameter slice, the residual stream per block) and the attention
// entropy per head. Every reduction is two fixed-order passes (per-chunk partials, then per-segment
// sums in double), so the statistics are the same bits on every run.
#include <algorithm>

#include "common.cuh"
#include "cuda_ops.h"
#include "error.h"

namespace resnorm {
namespace cuda {

namespace {

__global__ void __launch_bounds__(256) chunk_sumsq_kernel(double* part, const float* base, const ChunkInfo* chunks) {
  __shared__ float sh[32];
  const ChunkInfo ch = chunks[blockIdx.x];
  const float* p = base + ch.begin;
  float acc = 0.0f;
  for (uint32_t i = threadIdx.x; i < ch.len; i += blockDim.x) acc += p[i] * p[i];
  acc = block_sum(acc, sh);
  if (threadIdx.x == 0) part[blockIdx.x] = acc;
}

// out[s] = sum of the partials of segment s's chunks, in chunk order. `stride` doubles per chunk.
__global__ void segment_sum_kernel(double* out, const double* part, const uint32_t* seg_first, int nseg, int stride,
                                   int which) {
  const int s = blockIdx.x * blockDim.x + threadIdx.x;
  if (s >= nseg) return;
  double acc = 0.0;
  for (uint32_t c = seg_first[s]; c < seg_first[s + 1]; ++c) acc += part[static_cast<size_t>(c) * stride + which];
  out[s] = acc;
}

// Block (b, h): this head's rows, -sum_j p log p over j <= i, summed in double.
__global__ void __launch_bounds__(256) entropy_partial_kernel(double* part, const float* att, int T) {
  __shared__ double sh[32];
  const int warps = blockDim.x / kWarp, warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const float* base = att + static_cast<size_t>(blockIdx.x) * T * T;
  double acc = 0.0;
  for (int i = warp; i < T; i += warps) {
    const float* row = base + static_cast<size_t>(i) * T;
    float e = 0.0f;
    for (int j = lane; j <= i; j += kWarp) {
      const float p = row[j];
      e += p * logf(fmaxf(p, 1e-30f));
    }
    e = warp_sum(e);
    acc -= e;  // the same value in every lane; lane 0's is the one kept below
  }
  if (lane != 0) acc = 0.0;
  acc = block_sum(acc, sh);
  if (threadIdx.x == 0) part[blockIdx.x] = acc;
}

__global__ void entropy_reduce_kernel(float* out, const double* part, int B, int H, int T) {
  const int h = blockIdx.x * blockDim.x + threadIdx.x;
  if (h >= H) return;
  double s = 0.0;
  for (int b = 0; b < B; ++b) s += part[static_cast<size_t>(b) * H + h];
  out[h] = static_cast<float>(s / (static_cast<double>(B) * T));
}

}  // namespace

void sumsq(double* out, const float* base, const ChunkTable& t, Ctx& ctx) {
  if (t.nseg == 0) return;
  if (static_cast<size_t>(2 * t.nchunks) > ctx.scratch_floats) throw Error("sumsq: scratch too small");
  auto* part = reinterpret_cast<double*>(ctx.scratch);
  if (t.nchunks > 0) {
    chunk_sumsq_kernel<<<t.nchunks, 256, 0, ctx.stream>>>(part, base, t.chunks);
    RESNORM_CHECK_LAUNCH("chunk_sumsq");
  }
  segment_sum_kernel<<<ceil_div(t.nseg, 128), 128, 0, ctx.stream>>>(out, part, t.seg_first, t.nseg, 1, 0);
  RESNORM_CHECK_LAUNCH("segment_sum");
}

void attention_entropy(float* out, const float* att, int B, int T, int H, Ctx& ctx) {
  const int BH = B * H;
  if (BH == 0) return;
  if (static_cast<size_t>(2 * BH) > ctx.scratch_floats) throw Error("attention_entropy: scratch too small");
  auto* part = reinterpret_cast<double*>(ctx.scratch);
  entropy_partial_kernel<<<BH, 256, 0, ctx.stream>>>(part, att, T);
  RESNORM_CHECK_LAUNCH("entropy_partial");
  entropy_reduce_kernel<<<ceil_div(H, 64), 64, 0, ctx.stream>>>(out, part, B, H, T);
  RESNORM_CHECK_LAUNCH("entropy_reduce");
}

// Shared with optimizer.cu.
void segment_sums(double* out, const double* part, const ChunkTable& t, int stride, int which, Ctx& ctx) {
  segment_sum_kernel<<<ceil_div(t.nseg, 128), 128, 0, ctx.stream>>>(out, part, t.seg_first, t.nseg, stride, which);
  RESNORM_CHECK_LAUNCH("segment_sum");
}

}  // namespace cuda
}  // namespace resnorm

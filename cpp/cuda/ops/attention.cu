// Causal multi-head self-attention on the GPU (mirrors cpp/core/ops/attention.cpp). The probabilities
// are materialised ([B,H,T,T]) because the playground draws them and the diagnostics take their
// entropy. Scores and products are batched cuBLAS GEMMs over the (batch, head) pairs, reading q, k, v
// where they lie in the packed qkv [B,T,3C] (leading dimension 3C) and writing the output where it
// belongs in [B,T,C], so no permute kernels are needed; the softmax (with the causal mask) and its
// backward are one warp per row. Per head h, with row-major [T,hd] views (cuBLAS is column-major, so
// each row-major product is issued as its transpose; see linear.cu):
//   S = scale q k^T                   S^T = op_T(k) q          (m=T,  n=T, k=hd)
//   P = causal_softmax(S)             (row i keeps j <= i)
//   out = P v                         out^T = v P^T            (m=hd, n=T, k=T)
//   dv += P^T dy                      dv^T += dy op_T(P)       (m=hd, n=T, k=T)
//   dP = dy v^T                       dP^T = op_T(v) dy        (m=T,  n=T, k=hd)
//   dS = P * (dP - rowsum(dP * P)) * scale
//   dq += dS k                        dq^T += k dS^T           (m=hd, n=T, k=T)
//   dk += dS^T q                      dk^T += q op_T(dS)       (m=hd, n=T, k=T)
#include <string>
#include <vector>

#include "caches.h"
#include "common.cuh"
#include "cuda_ops.h"
#include "error.h"

namespace resnorm {
namespace cuda {

namespace {

// Softmax over each row i of the [T,T] blocks, keeping columns j <= i (the rest set to 0), in place.
__global__ void causal_softmax_kernel(float* att, long long rows, int T) {
  const int warps = blockDim.x / kWarp, lane = threadIdx.x % kWarp;
  const long long r = static_cast<long long>(blockIdx.x) * warps + threadIdx.x / kWarp;
  if (r >= rows) return;
  const int i = static_cast<int>(r % T);
  float* p = att + r * T;
  float m = -INFINITY;
  for (int j = lane; j <= i; j += kWarp) m = fmaxf(m, p[j]);
  m = warp_max(m);
  float s = 0.0f;
  for (int j = lane; j <= i; j += kWarp) {
    const float e = expf(p[j] - m);
    p[j] = e;
    s += e;
  }
  s = warp_sum(s);
  for (int j = lane; j < T; j += kWarp) p[j] = j <= i ? p[j] / s : 0.0f;
}

// ds holds dP on entry and dS = P * (dP - sum_j dP_j P_j) * scale on exit.
__global__ void causal_softmax_bwd_kernel(float* ds, const float* att, long long rows, int T, float scale) {
  const int warps = blockDim.x / kWarp, lane = threadIdx.x % kWarp;
  const long long r = static_cast<long long>(blockIdx.x) * warps + threadIdx.x / kWarp;
  if (r >= rows) return;
  const float* p = att + r * T;
  float* d = ds + r * T;
  float dot = 0.0f;
  for (int j = lane; j < T; j += kWarp) dot += d[j] * p[j];
  dot = warp_sum(dot);
  for (int j = lane; j < T; j += kWarp) d[j] = p[j] * (d[j] - dot) * scale;
}

cublasComputeType_t compute_type(const Ctx& ctx) { return ctx.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F; }

// Device arrays of the per-(b, h) pointers of one attention call: `families` arrays of B*H pointers,
// each family given by a base pointer, a per-batch stride and a per-head stride (in floats).
struct Family {
  const float* base;
  size_t per_b, per_h;
};

const void* const* pointer_arrays(const std::string& tag, const std::vector<Family>& fams, int B, int H, Ctx& ctx) {
  std::string key = tag + ":" + std::to_string(B) + "x" + std::to_string(H);
  for (const Family& f : fams)
    key += ":" + std::to_string(reinterpret_cast<uintptr_t>(f.base)) + "/" + std::to_string(f.per_b) + "/" +
           std::to_string(f.per_h);
  auto it = ctx.caches->att_ptrs.find(key);
  if (it != ctx.caches->att_ptrs.end()) return static_cast<const void* const*>(it->second);
  if (ctx.capturing) throw Error("attention: pointer arrays not prepared before the graph capture");
  const size_t BH = static_cast<size_t>(B) * H;
  std::vector<const float*> host(fams.size() * BH);
  for (size_t f = 0; f < fams.size(); ++f)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h)
        host[f * BH + static_cast<size_t>(b) * H + h] = fams[f].base + b * fams[f].per_b + h * fams[f].per_h;
  void* dev = nullptr;
  RESNORM_CUDA_CHECK(cudaMalloc(&dev, sizeof(float*) * host.size()));
  // On the ops' stream, so the GEMMs after it read the finished table; then wait, as `host` goes away.
  RESNORM_CUDA_CHECK(cudaMemcpyAsync(dev, host.data(), sizeof(float*) * host.size(), cudaMemcpyHostToDevice, ctx.stream));
  RESNORM_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  ctx.caches->att_ptrs[key] = dev;
  return static_cast<const void* const*>(dev);
}

void batched(Ctx& ctx, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
             const void* const* A, int lda, const void* const* Bm, int ldb, float beta, const void* const* Cm, int ldc,
             int count) {
  RESNORM_CUDA_CHECK(cublasGemmBatchedEx(ctx.blas, ta, tb, m, n, k, &alpha, A, CUDA_R_32F, lda, Bm, CUDA_R_32F, ldb,
                                         &beta, const_cast<void* const*>(Cm), CUDA_R_32F, ldc, count, compute_type(ctx),
                                         CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H, Ctx& ctx) {
  const int hd = C / H, BH = B * H;
  if (BH == 0 || T == 0) return;
  const float scale = 1.0f / sqrtf(static_cast<float>(hd));
  const size_t T3C = static_cast<size_t>(T) * 3 * C, TT = static_cast<size_t>(T) * T;
  // families: q, k, v, att, out
  const void* const* ptr = pointer_arrays(
      "fwd", {{qkv, T3C, static_cast<size_t>(hd)}, {qkv + C, T3C, static_cast<size_t>(hd)},
              {qkv + 2 * C, T3C, static_cast<size_t>(hd)}, {att, H * TT, TT},
              {out, static_cast<size_t>(T) * C, static_cast<size_t>(hd)}},
      B, H, ctx);
  const void* const* q = ptr;
  const void* const* k = ptr + BH;
  const void* const* v = ptr + 2 * BH;
  const void* const* p = ptr + 3 * BH;
  const void* const* o = ptr + 4 * BH;
  batched(ctx, CUBLAS_OP_T, CUBLAS_OP_N, T, T, hd, scale, k, 3 * C, q, 3 * C, 0.0f, p, T, BH);
  const long long rows = static_cast<long long>(BH) * T;
  causal_softmax_kernel<<<ceil_div(rows, 8), 256, 0, ctx.stream>>>(att, rows, T);
  RESNORM_CHECK_LAUNCH("causal_softmax");
  batched(ctx, CUBLAS_OP_N, CUBLAS_OP_N, hd, T, T, 1.0f, v, 3 * C, p, T, 0.0f, o, C, BH);
}

void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att, int B, int T, int C, int H,
                        Ctx& ctx) {
  const int hd = C / H, BH = B * H;
  if (BH == 0 || T == 0) return;
  const float scale = 1.0f / sqrtf(static_cast<float>(hd));
  const size_t T3C = static_cast<size_t>(T) * 3 * C, TT = static_cast<size_t>(T) * T;
  if (static_cast<size_t>(BH) * TT > ctx.scratch_floats) throw Error("attention_backward: scratch too small for dS");
  float* ds = ctx.scratch;
  // families: q, k, v, dq, dk, dv, att, dy, ds
  const void* const* ptr = pointer_arrays(
      "bwd", {{qkv, T3C, static_cast<size_t>(hd)}, {qkv + C, T3C, static_cast<size_t>(hd)},
              {qkv + 2 * C, T3C, static_cast<size_t>(hd)}, {dqkv, T3C, static_cast<size_t>(hd)},
              {dqkv + C, T3C, static_cast<size_t>(hd)}, {dqkv + 2 * C, T3C, static_cast<size_t>(hd)},
              {att, H * TT, TT}, {dout, static_cast<size_t>(T) * C, static_cast<size_t>(hd)}, {ds, H * TT, TT}},
      B, H, ctx);
  const void* const* q = ptr;
  const void* const* k = ptr + BH;
  const void* const* v = ptr + 2 * BH;
  const void* const* dq = ptr + 3 * BH;
  const void* const* dk = ptr + 4 * BH;
  const void* const* dv = ptr + 5 * BH;
  const void* const* p = ptr + 6 * BH;
  const void* const* dy = ptr + 7 * BH;
  const void* const* dsp = ptr + 8 * BH;
  batched(ctx, CUBLAS_OP_N, CUBLAS_OP_T, hd, T, T, 1.0f, dy, C, p, T, 1.0f, dv, 3 * C, BH);    // dv += P^T dy
  batched(ctx, CUBLAS_OP_T, CUBLAS_OP_N, T, T, hd, 1.0f, v, 3 * C, dy, C, 0.0f, dsp, T, BH);   // dP = dy v^T
  const long long rows = static_cast<long long>(BH) * T;
  causal_softmax_bwd_kernel<<<ceil_div(rows, 8), 256, 0, ctx.stream>>>(ds, att, rows, T, scale);
  RESNORM_CHECK_LAUNCH("causal_softmax_bwd");
  batched(ctx, CUBLAS_OP_N, CUBLAS_OP_N, hd, T, T, 1.0f, k, 3 * C, dsp, T, 1.0f, dq, 3 * C, BH);  // dq += dS k
  batched(ctx, CUBLAS_OP_N, CUBLAS_OP_T, hd, T, T, 1.0f, q, 3 * C, dsp, T, 1.0f, dk, 3 * C, BH);  // dk += dS^T q
}

}  // namespace cuda
}  // namespace resnorm

// LayerNorm / RMSNorm kernels, plain and fused with the residual add before them, forward and
// backward: the production versions chosen in cpp/cuda/kernels-bench (layernorm_forward.cu v4,
// layernorm_backward.cu v4, residual_layernorm_forward.cu v3, rmsnorm_forward.cu v3), included by
// the ops (layernorm.cu, rmsnorm.cu, residual.cu) and by those benchmarks.
//
// Forward: one warp per row; when C % 4 == 0, C <= 1024 and the pointers are 16-byte aligned, each lane
// keeps its share of the row in registers as float4 (one read of the input, one write of the output:
// the two-pass mean/variance costs no extra memory traffic); otherwise a scalar warp-per-row kernel
// that re-reads the row from cache. Backward: one warp per row computes d(input); the weight and bias
// gradients are summed per block in a fixed order into partials, then reduced column by column by a
// second kernel, so results are deterministic (no floating-point atomics). The same layout as the
// layernorm kernels of llm.c's dev/cuda and of Apex / PyTorch's fused LayerNorm, written anew here.
#pragma once
#include <algorithm>
#include <stdexcept>
#include <string>

#include "common.cuh"

namespace resnorm {
namespace cuda {

enum : int { kResNone = 0, kResIdentity = 1, kResReZero = 2, kResDeepNorm = 3, kResDoubled = 4 };  // = enum class Residual
enum : int { kLayerNorm = 1, kRmsNorm = 2 };                                       // = enum class NormKind

// y = R(x, f): none f | identity x + f | rezero x + a f | deepnorm a x + f | doubled f + f (issue 11: the
// article's `return x + x`, no shortcut). __fmul_rn keeps the product
// unfused, as the CPU core computes it.
__device__ __forceinline__ float res_fwd(int kind, float a, float x, float f) {
  switch (kind) {
    case kResNone: return f;
    case kResIdentity: return x + f;
    case kResReZero: return x + __fmul_rn(a, f);
    case kResDoubled: return f + f;
    default: return __fmul_rn(a, x) + f;
  }
}
__device__ __forceinline__ float4 res_fwd4(int kind, float a, float4 x, float4 f) {
  return make_float4(res_fwd(kind, a, x.x, f.x), res_fwd(kind, a, x.y, f.y), res_fwd(kind, a, x.z, f.z),
                     res_fwd(kind, a, x.w, f.w));
}
// Coefficients of the residual backward: dx += cx g, df += cf g.
__device__ __forceinline__ void res_coef(int kind, float a, float& cx, float& cf) {
  cx = kind == kResNone || kind == kResDoubled ? 0.0f : (kind == kResDeepNorm ? a : 1.0f);
  cf = kind == kResReZero ? a : (kind == kResDoubled ? 2.0f : 1.0f);
}

struct NormFwdArgs {
  float* out = nullptr;        // [N,C] Norm(in)
  float* mean = nullptr;       // [N] (LayerNorm)
  float* rstd = nullptr;       // [N]
  float* y = nullptr;          // [N,C] residual output R(x, f) (fused only)
  const float* x = nullptr;    // [N,C] the norm's input, or the residual's x when fused
  const float* f = nullptr;    // [N,C] the residual's branch (fused only)
  const float* w = nullptr;    // [C]
  const float* b = nullptr;    // [C] (LayerNorm)
  int N = 0, C = 0;
  float eps = 1e-5f;
  int kind = kResIdentity;     // residual kind (fused only)
  float a = 1.0f;              // DeepNorm alpha
  const float* a_ptr = nullptr;  // ReZero gate in device memory
};

template <int NORM, bool RES, int NV>
__global__ void __launch_bounds__(256) norm_fwd_vec(NormFwdArgs p) {
  const int warps = blockDim.x / kWarp, lane = threadIdx.x % kWarp;
  const int row = blockIdx.x * warps + threadIdx.x / kWarp;
  if (row >= p.N) return;
  const int C = p.C;
  const size_t base = static_cast<size_t>(row) * C;
  float a = p.a;
  if (RES && p.a_ptr) a = *p.a_ptr;
  float4 v[NV];
  float s = 0.0f;
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int c = (k * kWarp + lane) * 4;
    if (c < C) {
      float4 xv = ld4(p.x + base + c);
      if (RES) {
        xv = res_fwd4(p.kind, a, xv, ld4(p.f + base + c));
        st4(p.y + base + c, xv);
      }
      v[k] = xv;
      s += sum4(xv);
    } else {
      v[k] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
  }
  float m = 0.0f;
  if (NORM == kLayerNorm) m = warp_sum(s) / C;
  float s2 = 0.0f;
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int c = (k * kWarp + lane) * 4;
    if (c < C) {
      const float dx0 = v[k].x - m, dx1 = v[k].y - m, dx2 = v[k].z - m, dx3 = v[k].w - m;
      s2 += (dx0 * dx0 + dx1 * dx1) + (dx2 * dx2 + dx3 * dx3);
    }
  }
  const float r = 1.0f / sqrtf(warp_sum(s2) / C + p.eps);
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int c = (k * kWarp + lane) * 4;
    if (c < C) {
      const float4 w = ldg4(p.w + c);
      float4 o;
      if (NORM == kLayerNorm) {
        const float4 b = ldg4(p.b + c);
        o = make_float4((v[k].x - m) * r * w.x + b.x, (v[k].y - m) * r * w.y + b.y, (v[k].z - m) * r * w.z + b.z,
                        (v[k].w - m) * r * w.w + b.w);
      } else {
        o = make_float4(v[k].x * r * w.x, v[k].y * r * w.y, v[k].z * r * w.z, v[k].w * r * w.w);
      }
      st4(p.out + base + c, o);
    }
  }
  if (lane == 0) {
    if (NORM == kLayerNorm) p.mean[row] = m;
    p.rstd[row] = r;
  }
}

template <int NORM, bool RES>
__global__ void __launch_bounds__(256) norm_fwd_any(NormFwdArgs p) {
  const int warps = blockDim.x / kWarp, lane = threadIdx.x % kWarp;
  const int row = blockIdx.x * warps + threadIdx.x / kWarp;
  if (row >= p.N) return;
  const int C = p.C;
  const size_t base = static_cast<size_t>(row) * C;
  float a = p.a;
  if (RES && p.a_ptr) a = *p.a_ptr;
  const float* in = RES ? p.y : p.x;  // after pass 1 the fused kernel reads its own output back
  float s = 0.0f;
  for (int c = lane; c < C; c += kWarp) {
    float v = p.x[base + c];
    if (RES) {
      v = res_fwd(p.kind, a, v, p.f[base + c]);
      p.y[base + c] = v;  // read back below by the same thread
    }
    s += v;
  }
  float m = 0.0f;
  if (NORM == kLayerNorm) m = warp_sum(s) / C;
  float s2 = 0.0f;
  for (int c = lane; c < C; c += kWarp) {
    const float d = in[base + c] - m;
    s2 += d * d;
  }
  const float r = 1.0f / sqrtf(warp_sum(s2) / C + p.eps);
  for (int c = lane; c < C; c += kWarp) {
    const float v = in[base + c];
    p.out[base + c] = NORM == kLayerNorm ? (v - m) * r * __ldg(p.w + c) + __ldg(p.b + c) : v * r * __ldg(p.w + c);
  }
  if (lane == 0) {
    if (NORM == kLayerNorm) p.mean[row] = m;
    p.rstd[row] = r;
  }
}

inline bool norm_vec_ok(const NormFwdArgs& p) {
  auto ok = [](const void* q) { return q == nullptr || aligned16(q); };
  return p.C % 4 == 0 && p.C <= 1024 && ok(p.out) && ok(p.y) && ok(p.x) && ok(p.f) && ok(p.w) && ok(p.b);
}

template <int NORM, bool RES>
void launch_norm_fwd(const NormFwdArgs& p, cudaStream_t stream) {
  if (p.N <= 0) return;
  const int threads = 256, grid = ceil_div(p.N, threads / kWarp);
  if (norm_vec_ok(p)) {
    switch ((p.C + 127) / 128) {
      case 1: norm_fwd_vec<NORM, RES, 1><<<grid, threads, 0, stream>>>(p); break;
      case 2: norm_fwd_vec<NORM, RES, 2><<<grid, threads, 0, stream>>>(p); break;
      case 3: norm_fwd_vec<NORM, RES, 3><<<grid, threads, 0, stream>>>(p); break;
      case 4: norm_fwd_vec<NORM, RES, 4><<<grid, threads, 0, stream>>>(p); break;
      case 5: norm_fwd_vec<NORM, RES, 5><<<grid, threads, 0, stream>>>(p); break;
      case 6: norm_fwd_vec<NORM, RES, 6><<<grid, threads, 0, stream>>>(p); break;
      case 7: norm_fwd_vec<NORM, RES, 7><<<grid, threads, 0, stream>>>(p); break;
      default: norm_fwd_vec<NORM, RES, 8><<<grid, threads, 0, stream>>>(p); break;
    }
  } else {
    norm_fwd_any<NORM, RES><<<grid, threads, 0, stream>>>(p);
  }
  RESNORM_CHECK_LAUNCH("norm_fwd");
}

// ---- backward

struct NormBwdArgs {
  float* dx = nullptr;          // [N,C] plain: d(in) (+=); fused: the residual's dx (+=)
  float* df = nullptr;          // [N,C] fused: the residual's df (+=)
  float* dw = nullptr;          // [C] (+=)
  float* db = nullptr;          // [C] (+=, LayerNorm)
  float* da = nullptr;          // [1] (+=, fused ReZero)
  const float* dres = nullptr;  // [N,C] fused: gradient already at the norm's input (or null)
  const float* dnorm = nullptr; // [N,C] gradient of the norm's output
  const float* in = nullptr;    // [N,C] the norm's input
  const float* w = nullptr;     // [C]
  const float* mean = nullptr;  // [N] (LayerNorm)
  const float* rstd = nullptr;  // [N]
  const float* f = nullptr;     // [N,C] fused: the residual's branch input (ReZero's da)
  int N = 0, C = 0;
  int kind = kResIdentity;
  float a = 1.0f;
  const float* a_ptr = nullptr;
  float* partial = nullptr;     // scratch [grid, 2C+1]
  size_t partial_floats = 0;
  int sms = 1;
};

// The gradient of the norm's input for one element: r (dxh - mean_d - xh mean_dxh), where xh is the
// normalised input, dxh = dy * w, and the means run over the row (mean_d = 0 for RMSNorm).
template <int NORM, bool RES, bool ACC>
__device__ __forceinline__ void norm_bwd_store(const NormBwdArgs& p, size_t i, float g, float cx, float cf,
                                               float& da_acc) {
  if (RES) {
    if (p.dres) g += p.dres[i];
    if (cx != 0.0f) p.dx[i] += cx == 1.0f ? g : cx * g;
    p.df[i] += cf == 1.0f ? g : cf * g;
    if (p.kind == kResReZero) da_acc += g * p.f[i];
  } else if (ACC) {
    p.dx[i] += g;
  } else {
    p.dx[i] = g;
  }
}

template <int NORM, bool RES, bool ACC, int NV>
__global__ void __launch_bounds__(256) norm_bwd_vec(NormBwdArgs p) {
  extern __shared__ float sh[];  // [2C+1]: dw, db, da of this block
  const int warps = blockDim.x / kWarp, warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int C = p.C;
  float cx = 1.0f, cf = 1.0f;
  if (RES) res_coef(p.kind, p.a_ptr ? *p.a_ptr : p.a, cx, cf);
  float4 dwa[NV], dba[NV];
#pragma unroll
  for (int k = 0; k < NV; ++k) dwa[k] = dba[k] = make_float4(0.f, 0.f, 0.f, 0.f);
  float da_acc = 0.0f;
  for (int row = blockIdx.x * warps + warp; row < p.N; row += gridDim.x * warps) {
    const size_t base = static_cast<size_t>(row) * C;
    const float m = NORM == kLayerNorm ? p.mean[row] : 0.0f, r = p.rstd[row];
    float4 xh[NV], dxh[NV];
    float s1 = 0.0f, s2 = 0.0f;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
      const int c = (k * kWarp + lane) * 4;
      if (c < C) {
        const float4 dy = ld4(p.dnorm + base + c), x = ld4(p.in + base + c), w = ldg4(p.w + c);
        xh[k] = make_float4((x.x - m) * r, (x.y - m) * r, (x.z - m) * r, (x.w - m) * r);
        dxh[k] = make_float4(dy.x * w.x, dy.y * w.y, dy.z * w.z, dy.w * w.w);
        s1 += sum4(dxh[k]);
        s2 += (dxh[k].x * xh[k].x + dxh[k].y * xh[k].y) + (dxh[k].z * xh[k].z + dxh[k].w * xh[k].w);
        dwa[k].x += dy.x * xh[k].x; dwa[k].y += dy.y * xh[k].y; dwa[k].z += dy.z * xh[k].z; dwa[k].w += dy.w * xh[k].w;
        if (NORM == kLayerNorm) { dba[k].x += dy.x; dba[k].y += dy.y; dba[k].z += dy.z; dba[k].w += dy.w; }
      }
    }
    const float mean_d = NORM == kLayerNorm ? warp_sum(s1) / C : 0.0f;
    const float mean_dx = warp_sum(s2) / C;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
      const int c = (k * kWarp + lane) * 4;
      if (c < C) {
        if (!RES && ACC) {  // the common case, vectorised
          float4 d = ld4(p.dx + base + c);
          d.x += r * (dxh[k].x - mean_d - xh[k].x * mean_dx);
          d.y += r * (dxh[k].y - mean_d - xh[k].y * mean_dx);
          d.z += r * (dxh[k].z - mean_d - xh[k].z * mean_dx);
          d.w += r * (dxh[k].w - mean_d - xh[k].w * mean_dx);
          st4(p.dx + base + c, d);
        } else if (!RES) {
          st4(p.dx + base + c, make_float4(r * (dxh[k].x - mean_d - xh[k].x * mean_dx),
                                           r * (dxh[k].y - mean_d - xh[k].y * mean_dx),
                                           r * (dxh[k].z - mean_d - xh[k].z * mean_dx),
                                           r * (dxh[k].w - mean_d - xh[k].w * mean_dx)));
        } else {
          norm_bwd_store<NORM, RES, ACC>(p, base + c + 0, r * (dxh[k].x - mean_d - xh[k].x * mean_dx), cx, cf, da_acc);
          norm_bwd_store<NORM, RES, ACC>(p, base + c + 1, r * (dxh[k].y - mean_d - xh[k].y * mean_dx), cx, cf, da_acc);
          norm_bwd_store<NORM, RES, ACC>(p, base + c + 2, r * (dxh[k].z - mean_d - xh[k].z * mean_dx), cx, cf, da_acc);
          norm_bwd_store<NORM, RES, ACC>(p, base + c + 3, r * (dxh[k].w - mean_d - xh[k].w * mean_dx), cx, cf, da_acc);
        }
      }
    }
  }
  // This block's dw / db / da, warp after warp (fixed order), then one row of partials.
  for (int i = threadIdx.x; i < 2 * C + 1; i += blockDim.x) sh[i] = 0.0f;
  __syncthreads();
  for (int wi = 0; wi < warps; ++wi) {
    if (warp == wi) {
#pragma unroll
      for (int k = 0; k < NV; ++k) {
        const int c = (k * kWarp + lane) * 4;
        if (c < C) {
          sh[c] += dwa[k].x; sh[c + 1] += dwa[k].y; sh[c + 2] += dwa[k].z; sh[c + 3] += dwa[k].w;
          if (NORM == kLayerNorm) {
            sh[C + c] += dba[k].x; sh[C + c + 1] += dba[k].y; sh[C + c + 2] += dba[k].z; sh[C + c + 3] += dba[k].w;
          }
        }
      }
      if (RES) {
        const float d = warp_sum(da_acc);
        if (lane == 0) sh[2 * C] += d;
      }
    }
    __syncthreads();
  }
  float* out = p.partial + static_cast<size_t>(blockIdx.x) * (2 * C + 1);
  for (int i = threadIdx.x; i < 2 * C + 1; i += blockDim.x) out[i] = sh[i];
}

// Any C, any alignment: one warp per block; lane l owns columns l, l+32, ... of the block's
// accumulators in shared memory (a single writer per column: no atomics).
template <int NORM, bool RES, bool ACC>
__global__ void __launch_bounds__(32) norm_bwd_any(NormBwdArgs p) {
  extern __shared__ float sh[];  // [2C+1]
  const int lane = threadIdx.x, C = p.C;
  float cx = 1.0f, cf = 1.0f;
  if (RES) res_coef(p.kind, p.a_ptr ? *p.a_ptr : p.a, cx, cf);
  for (int i = lane; i < 2 * C + 1; i += kWarp) sh[i] = 0.0f;
  __syncwarp();
  float da_acc = 0.0f;
  for (int row = blockIdx.x; row < p.N; row += gridDim.x) {
    const size_t base = static_cast<size_t>(row) * C;
    const float m = NORM == kLayerNorm ? p.mean[row] : 0.0f, r = p.rstd[row];
    float s1 = 0.0f, s2 = 0.0f;
    for (int c = lane; c < C; c += kWarp) {
      const float xh = (p.in[base + c] - m) * r, dxh = p.dnorm[base + c] * __ldg(p.w + c);
      s1 += dxh;
      s2 += dxh * xh;
    }
    const float mean_d = NORM == kLayerNorm ? warp_sum(s1) / C : 0.0f;
    const float mean_dx = warp_sum(s2) / C;
    for (int c = lane; c < C; c += kWarp) {
      const float dy = p.dnorm[base + c], xh = (p.in[base + c] - m) * r, dxh = dy * __ldg(p.w + c);
      sh[c] += dy * xh;
      if (NORM == kLayerNorm) sh[C + c] += dy;
      norm_bwd_store<NORM, RES, ACC>(p, base + c, r * (dxh - mean_d - xh * mean_dx), cx, cf, da_acc);
    }
  }
  if (RES) {
    const float d = warp_sum(da_acc);
    if (lane == 0) sh[2 * C] += d;
  }
  __syncwarp();
  float* out = p.partial + static_cast<size_t>(blockIdx.x) * (2 * C + 1);
  for (int i = lane; i < 2 * C + 1; i += kWarp) out[i] = sh[i];
}

// dw[c] += sum over blocks of the partials, in block order; likewise db and da.
static __global__ void norm_bwd_reduce(float* dw, float* db, float* da, const float* partial, int G, int C) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int W = 2 * C + 1;
  if (i >= W) return;
  float s = 0.0f;
  for (int g = 0; g < G; ++g) s += partial[static_cast<size_t>(g) * W + i];
  if (i < C) {
    dw[i] += s;
  } else if (i < 2 * C) {
    if (db) db[i - C] += s;
  } else if (da) {
    *da += s;
  }
}

inline bool norm_bwd_vec_ok(const NormBwdArgs& p) {
  auto ok = [](const void* q) { return q == nullptr || aligned16(q); };
  return p.C % 4 == 0 && p.C <= 1024 && ok(p.dx) && ok(p.df) && ok(p.dres) && ok(p.dnorm) && ok(p.in) && ok(p.w) &&
         ok(p.f);
}

// Blocks of the backward grid (and rows of partials): enough to fill the GPU, few enough that the
// partials stay small.
inline int norm_bwd_blocks(int N, int C, int sms) {
  const bool vec = C % 4 == 0 && C <= 1024;
  return vec ? std::max(1, std::min(ceil_div(N, 8), 2 * sms)) : std::max(1, std::min(N, 8 * sms));
}
inline size_t norm_bwd_partial_floats(int N, int C, int sms) {  // enough for either kernel
  return static_cast<size_t>(std::max(1, std::min(N, 8 * sms))) * (2 * static_cast<size_t>(C) + 1);
}

template <int NORM, bool RES, bool ACC = true>
void launch_norm_bwd(const NormBwdArgs& p, cudaStream_t stream) {
  if (p.N <= 0) return;
  const bool vec = norm_bwd_vec_ok(p);
  const int C = p.C;
  int G = vec ? norm_bwd_blocks(p.N, C, p.sms) : std::max(1, std::min(p.N, 8 * p.sms));
  const size_t W = 2 * static_cast<size_t>(C) + 1;
  if (static_cast<size_t>(G) * W > p.partial_floats) G = static_cast<int>(p.partial_floats / W);
  if (G < 1) throw std::runtime_error("norm backward: scratch too small for the partials");
  const size_t smem = sizeof(float) * W;
  if (vec) {
    const int threads = 256;
    switch ((C + 127) / 128) {
      case 1: norm_bwd_vec<NORM, RES, ACC, 1><<<G, threads, smem, stream>>>(p); break;
      case 2: norm_bwd_vec<NORM, RES, ACC, 2><<<G, threads, smem, stream>>>(p); break;
      case 3: norm_bwd_vec<NORM, RES, ACC, 3><<<G, threads, smem, stream>>>(p); break;
      case 4: norm_bwd_vec<NORM, RES, ACC, 4><<<G, threads, smem, stream>>>(p); break;
      case 5: norm_bwd_vec<NORM, RES, ACC, 5><<<G, threads, smem, stream>>>(p); break;
      case 6: norm_bwd_vec<NORM, RES, ACC, 6><<<G, threads, smem, stream>>>(p); break;
      case 7: norm_bwd_vec<NORM, RES, ACC, 7><<<G, threads, smem, stream>>>(p); break;
      default: norm_bwd_vec<NORM, RES, ACC, 8><<<G, threads, smem, stream>>>(p); break;
    }
  } else {
    norm_bwd_any<NORM, RES, ACC><<<G, kWarp, smem, stream>>>(p);
  }
  RESNORM_CHECK_LAUNCH("norm_bwd");
  norm_bwd_reduce<<<ceil_div(static_cast<long long>(W), 256), 256, 0, stream>>>(p.dw, NORM == kLayerNorm ? p.db : nullptr,
                                                                               RES ? p.da : nullptr, p.partial, G, C);
  RESNORM_CHECK_LAUNCH("norm_bwd_reduce");
}

}  // namespace cuda
}  // namespace resnorm

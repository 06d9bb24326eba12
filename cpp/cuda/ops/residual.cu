// The residual variants on the GPU (mirrors cpp/core/ops/residual.cpp: none | identity | ReZero
// (Bachlechner et al. 2020) | DeepNorm (Wang et al. 2022) | doubled (issue 11)), and the residual add fused with the norm
// that follows it: forward y = R(x, f), out = Norm(y) in one pass; backward g = dres + dNorm, then
// dx += dR/dx g, df += dR/df g in the same pass, g never written to memory.
#include <algorithm>
#include <stdexcept>

#include "cuda_ops.h"
#include "norm_kernels.cuh"

namespace resnorm {
namespace cuda {

static_assert(static_cast<int>(Residual::None) == kResNone && static_cast<int>(Residual::Identity) == kResIdentity &&
                  static_cast<int>(Residual::ReZero) == kResReZero && static_cast<int>(Residual::DeepNorm) == kResDeepNorm &&
                  static_cast<int>(Residual::Doubled) == kResDoubled,
              "residual kinds must match norm_kernels.cuh");

namespace {

__global__ void residual_fwd_kernel(float* out, const float* x, const float* f, size_t n, int kind, float a,
                                    const float* a_ptr) {
  if (a_ptr) a = *a_ptr;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] = res_fwd(kind, a, x[i], f[i]);
}

__global__ void residual_fwd_vec(float* out, const float* x, const float* f, size_t n4, int kind, float a,
                                 const float* a_ptr) {
  if (a_ptr) a = *a_ptr;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n4;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    st4(out + 4 * i, res_fwd4(kind, a, ld4(x + 4 * i), ld4(f + 4 * i)));
}

// dx += cx dout, df += cf dout; ReZero: this block's sum(dout * f) into part[blockIdx.x] (double).
__global__ void residual_bwd_kernel(float* dx, float* df, double* part, const float* dout, const float* f, size_t n,
                                    int kind, float a, const float* a_ptr) {
  __shared__ float sh[32];
  float cx, cf;
  res_coef(kind, a_ptr ? *a_ptr : a, cx, cf);
  float acc = 0.0f;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float g = dout[i];
    if (cx != 0.0f) dx[i] += cx == 1.0f ? g : __fmul_rn(cx, g);
    df[i] += cf == 1.0f ? g : __fmul_rn(cf, g);
    if (kind == kResReZero) acc += g * f[i];
  }
  if (kind == kResReZero) {
    acc = block_sum(acc, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = acc;
  }
}

// *da += sum of part[0..G) in order (one thread: G is at most a few hundred).
__global__ void add_partials(float* da, const double* part, int G) {
  double s = 0.0;
  for (int g = 0; g < G; ++g) s += part[g];
  *da += static_cast<float>(s);
}

int elementwise_grid(size_t n, int sms) { return std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 8 * sms)); }

}  // namespace

void residual_forward(float* out, const float* x, const float* f, size_t n, Residual kind, float a,
                      const float* a_ptr, Ctx& ctx) {
  if (n == 0) return;
  const int k = static_cast<int>(kind);
  if (n % 4 == 0 && aligned16(out) && aligned16(x) && aligned16(f))
    residual_fwd_vec<<<elementwise_grid(n / 4, ctx.sms), 256, 0, ctx.stream>>>(out, x, f, n / 4, k, a, a_ptr);
  else
    residual_fwd_kernel<<<elementwise_grid(n, ctx.sms), 256, 0, ctx.stream>>>(out, x, f, n, k, a, a_ptr);
  RESNORM_CHECK_LAUNCH("residual_forward");
}

void residual_backward(float* dx, float* df, float* da, const float* dout, const float* f, size_t n, Residual kind,
                       float a, const float* a_ptr, Ctx& ctx) {
  if (n == 0) return;
  const int G = elementwise_grid(n, ctx.sms);
  if (static_cast<size_t>(2 * G) > ctx.scratch_floats) throw std::runtime_error("residual_backward: scratch too small");
  auto* part = reinterpret_cast<double*>(ctx.scratch);
  residual_bwd_kernel<<<G, 256, 0, ctx.stream>>>(dx, df, part, dout, f, n, static_cast<int>(kind), a, a_ptr);
  RESNORM_CHECK_LAUNCH("residual_backward");
  if (kind == Residual::ReZero && da) {
    add_partials<<<1, 1, 0, ctx.stream>>>(da, part, G);
    RESNORM_CHECK_LAUNCH("residual_backward/da");
  }
}

void residual_norm_forward(NormKind norm, float* y, float* out, float* mean, float* rstd, const float* x,
                           const float* f, const float* w, const float* b, int N, int C, float eps, Residual kind,
                           float a, const float* a_ptr, Ctx& ctx) {
  NormFwdArgs p;
  p.out = out;
  p.mean = mean;
  p.rstd = rstd;
  p.y = y;
  p.x = x;
  p.f = f;
  p.w = w;
  p.b = b;
  p.N = N;
  p.C = C;
  p.eps = eps;
  p.kind = static_cast<int>(kind);
  p.a = a;
  p.a_ptr = a_ptr;
  if (norm == NormKind::LayerNorm)
    launch_norm_fwd<kLayerNorm, true>(p, ctx.stream);
  else
    launch_norm_fwd<kRmsNorm, true>(p, ctx.stream);
}

void residual_norm_backward(NormKind norm, float* dx, float* df, float* da, float* dw, float* db, const float* dres,
                            const float* dnorm, const float* in, const float* w, const float* mean, const float* rstd,
                            const float* f, int N, int C, Residual kind, float a, const float* a_ptr, Ctx& ctx) {
  NormBwdArgs p;
  p.dx = dx;
  p.df = df;
  p.dw = dw;
  p.db = db;
  p.da = kind == Residual::ReZero ? da : nullptr;
  p.dres = dres;
  p.dnorm = dnorm;
  p.in = in;
  p.w = w;
  p.mean = mean;
  p.rstd = rstd;
  p.f = f;
  p.N = N;
  p.C = C;
  p.kind = static_cast<int>(kind);
  p.a = a;
  p.a_ptr = a_ptr;
  p.partial = ctx.scratch;
  p.partial_floats = ctx.scratch_floats;
  p.sms = ctx.sms;
  if (norm == NormKind::LayerNorm)
    launch_norm_bwd<kLayerNorm, true>(p, ctx.stream);
  else
    launch_norm_bwd<kRmsNorm, true>(p, ctx.stream);
}

}  // namespace cuda
}  // namespace resnorm

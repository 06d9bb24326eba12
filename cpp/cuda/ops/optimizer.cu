// The optimiser step on the GPU, as one fused pass over the flat parameter block (mirrors
// cpp/core/optimizer.cpp and the guard + clipping of Trainer::step): a one-thread kernel turns the
// gradient's per-slice squared norms into the global norm, the finite-ness guard, the clipping
// coefficient and AdamW's bias corrections; then every chunk of the block reads those scalars, applies
// AdamW (Loshchilov & Hutter 2019; PyTorch's formula) or SGD with momentum to its elements, and
// leaves the squared norms of the update and of the old weights for the update-to-weight ratios.
// When the guard fails nothing is written but zero ratios, so training goes on from the last good state.
#include <algorithm>
#include <cmath>

#include "common.cuh"
#include "cuda_ops.h"
#include "error.h"

namespace resnorm {
namespace cuda {

void segment_sums(double* out, const double* part, const ChunkTable& t, int stride, int which, Ctx& ctx);

namespace {

__global__ void step_scalars_kernel(StepScalars* s, const double* slice_sq, int n, OptimHyper h) {
  double total = 0.0;
  for (int i = 0; i < n; ++i) total += slice_sq[i];
  s->grad_sq = total;
  s->ok = isfinite(s->loss) && isfinite(total);
  s->clip_coef = 1.0f;
  if (h.clip > 0) {
    const double coef = h.clip / (sqrt(total) + 1e-6);
    if (coef < 1.0) s->clip_coef = static_cast<float>(coef);
  }
  if (!s->ok) return;
  s->t += 1;
  const double bc1 = 1.0 - pow(h.beta1, static_cast<double>(s->t)), bc2 = 1.0 - pow(h.beta2, static_cast<double>(s->t));
  s->step_size = static_cast<float>(s->lr / bc1);
  s->bc2_sqrt = static_cast<float>(sqrt(bc2));
}

__global__ void __launch_bounds__(256) optimizer_kernel(float* params, float* m, float* v, const float* grads,
                                                        double* part, const ChunkInfo* chunks, const StepScalars* s,
                                                        OptimHyper h) {
  __shared__ float sh[32];
  if (!s->ok) {  // the same for every thread of the grid
    if (threadIdx.x == 0) part[2 * blockIdx.x] = part[2 * blockIdx.x + 1] = 0.0;
    return;
  }
  const ChunkInfo ch = chunks[blockIdx.x];
  const bool decay = (ch.flags & kChunkDecay) != 0;
  const float flr = static_cast<float>(s->lr), coef = s->clip_coef, step_size = s->step_size, bc2_sqrt = s->bc2_sqrt;
  const float b1 = static_cast<float>(h.beta1), b2 = static_cast<float>(h.beta2);
  const bool first = s->t == 1 || h.momentum == 0.0f;
  float dd = 0.0f, ww = 0.0f;
  for (uint32_t k = threadIdx.x; k < ch.len; k += blockDim.x) {
    const size_t i = ch.begin + k;
    const float g = coef < 1.0f ? grads[i] * coef : grads[i];
    const float old = params[i];
    float p = old, d;
    if (h.adamw) {
      if (decay && h.weight_decay > 0) p *= 1.0f - flr * h.weight_decay;
      const float mi = b1 * m[i] + (1.0f - b1) * g;
      const float vi = b2 * v[i] + (1.0f - b2) * (g * g);
      m[i] = mi;
      v[i] = vi;
      p -= step_size * mi / (sqrtf(vi) / bc2_sqrt + h.eps);
      d = p - old;
    } else {
      const float swd = decay ? h.weight_decay : 0.0f;
      const float buf = first ? g + swd * p : h.momentum * m[i] + g + swd * p;
      m[i] = buf;
      d = -flr * buf;
      p += d;
    }
    params[i] = p;
    dd += d * d;
    ww += old * old;
  }
  dd = block_sum(dd, sh);
  ww = block_sum(ww, sh);
  if (threadIdx.x == 0) {
    part[2 * blockIdx.x] = dd;
    part[2 * blockIdx.x + 1] = ww;
  }
}

}  // namespace

void step_scalars(StepScalars* s, const double* slice_sq, int nslices, OptimHyper h, Ctx& ctx) {
  step_scalars_kernel<<<1, 1, 0, ctx.stream>>>(s, slice_sq, nslices, h);
  RESNORM_CHECK_LAUNCH("step_scalars");
}

void optimizer_update(float* params, float* m, float* v, const float* grads, double* d2, double* w2,
                      const ChunkTable& t, const StepScalars* s, OptimHyper h, Ctx& ctx) {
  if (static_cast<size_t>(4 * t.nchunks) > ctx.scratch_floats) throw Error("optimizer_update: scratch too small");
  auto* part = reinterpret_cast<double*>(ctx.scratch);
  if (t.nchunks > 0) {
    optimizer_kernel<<<t.nchunks, 256, 0, ctx.stream>>>(params, m, v, grads, part, t.chunks, s, h);
    RESNORM_CHECK_LAUNCH("optimizer_update");
  }
  segment_sums(d2, part, t, 2, 0, ctx);
  segment_sums(w2, part, t, 2, 1, ctx);
}

namespace {
__global__ void restore_unless_ok_kernel(float* bufs, const float* saved, size_t n, const StepScalars* s) {
  if (s->ok) return;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    bufs[i] = saved[i];
}
}  // namespace

// The guard's rollback of BatchNorm's running statistics (Trainer::step restores them after a bad step).
void restore_unless_ok(float* bufs, const float* saved, size_t n, const StepScalars* s, Ctx& ctx) {
  if (n == 0) return;
  const int grid = std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 4 * ctx.sms));
  restore_unless_ok_kernel<<<grid, 256, 0, ctx.stream>>>(bufs, saved, n, s);
  RESNORM_CHECK_LAUNCH("restore_unless_ok");
}

}  // namespace cuda
}  // namespace resnorm

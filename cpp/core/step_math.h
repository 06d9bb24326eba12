// The train step's arithmetic, written once for the host: global-norm clipping, AdamW's bias
// corrections, AdamW and SGD over a range. HostOps (exec/host_ops.cpp) calls these for every CPU and
// host backend under the one train step (exec/train_step.cpp); the CUDA kernels
// (cpp/cuda/ops/optimizer.cu) are their device form, held to HostOps by the [cuda] tests.
#pragma once
#include <cmath>
#include <cstddef>

namespace resnorm {

// Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_: the gradient is scaled by
// clip / (norm + 1e-6) when that is below 1. Returns 1 (no scaling) otherwise, and when clip <= 0 (off).
inline double clip_coefficient(double clip, double grad_norm) {
  if (!(clip > 0)) return 1.0;
  const double coef = clip / (grad_norm + 1e-6);
  return coef < 1.0 ? coef : 1.0;
}

// AdamW's bias corrections for update t (1-based), as torch.optim.AdamW (Loshchilov & Hutter 2019,
// Algorithm 2; Kingma & Ba 2015): step size lr / (1 - beta1^t), and sqrt(1 - beta2^t), which divides sqrt(v).
struct AdamWBias {
  float step_size = 0, bc2_sqrt = 1;
};
inline AdamWBias adamw_bias(double lr, double beta1, double beta2, int t) {
  const double bc1 = 1.0 - std::pow(beta1, t);
  const double bc2 = 1.0 - std::pow(beta2, t);
  const float step_size = static_cast<float>(lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  return {step_size, bc2_sqrt};
}

// One element of AdamW, p already decayed (p * (1 - lr * wd) where decay applies): updates the moments
// m, v and returns the new parameter. The order of operations is PyTorch's; the square root is the
// exact one (not an rsqrt estimate), so x86 and WebAssembly give the same bits.
inline float adamw_element(float p, float g, float& m, float& v, float b1, float b2, float step_size, float bc2_sqrt,
                           float eps) {
  m = b1 * m + (1.0f - b1) * g;
  v = b2 * v + (1.0f - b2) * (g * g);
  return p - step_size * m / (std::sqrt(v) / bc2_sqrt + eps);
}

// SGD's momentum buffer for one element, as torch.optim.SGD (no dampening, no Nesterov): g + wd * p on
// the first update or without momentum, momentum * buf + g + wd * p after. The update is -lr * buffer.
inline float sgd_buffer(float buf, float g, float p, float momentum, float wd, bool first) {
  return first || momentum == 0.0f ? g + wd * p : momentum * buf + g + wd * p;
}

// AdamW over one range, one pass over its five arrays: g = grad * coef (the clipping coefficient;
// x * 1 is x, exactly), the weight decayed by `dec` (1 - lr * wd where decay applies, else 1), then
// adamw_element. dp receives the update, new - old. Defined in optimizer.cpp, which every build
// compiles for speed (the wasm build compiles host_ops.cpp, its caller, for size).
void adamw_range(float* __restrict pp, float* __restrict mp, float* __restrict vp, float* __restrict dp,
                 const float* __restrict gp, size_t len, float coef, float dec, float b1, float b2, float step_size,
                 float bc2_sqrt, float eps);
// SGD with momentum over one range: the buffer (sgd_buffer), then the step -lr * buffer, which dp receives.
void sgd_range(float* __restrict pp, float* __restrict bp, float* __restrict dp, const float* __restrict gp, size_t len,
               float coef, float lr, float momentum, float wd, bool first);

}  // namespace resnorm

// The learning-rate schedule (optimizer.h) and the optimisers' range loops (step_math.h).
#include "optimizer.h"

#include <algorithm>
#include <cmath>

#include "step_math.h"

namespace resnorm {

double learning_rate(const OptimConfig& o, int step) {
  if (step < o.warmup) return o.lr * (step + 1) / o.warmup;
  if (o.schedule == Schedule::Constant) return o.lr;
  const double span = std::max(1, o.steps - o.warmup);
  const double progress = std::min(1.0, (step - o.warmup) / span);
  return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1.0 + std::cos(3.141592653589793 * progress));
}

// One pass over the five arrays (it was six Eigen expressions, ten loads and five stores an element:
// 18% of a 3 x 256 mlp step, bound by memory), restrict pointers so compilers vectorise it. The same
// arithmetic in PyTorch's order: decay, m, v with (1 - b2) * g^2, then an exact sqrt (IEEE, as
// PyTorch's; Eigen's vectorised sqrt under its default EIGEN_FAST_MATH starts from the CPU's rsqrt
// estimate, which differs between x86 and WebAssembly and would break the wasm == native-sse
// bit-identity, tests/js/engine.native.test.ts). -fno-math-errno (CMakeLists.txt) lets the compilers
// vectorise it: sqrtps / f32x4.sqrt, both exact.
void adamw_range(float* __restrict pp, float* __restrict mp, float* __restrict vp, float* __restrict dp,
                 const float* __restrict gp, size_t len, float coef, float dec, float b1, float b2, float step_size,
                 float bc2_sqrt, float eps) {
  for (size_t i = 0; i < len; ++i) {
    const float old = pp[i];
    float m = mp[i], v = vp[i];
    const float next = adamw_element(old * dec, gp[i] * coef, m, v, b1, b2, step_size, bc2_sqrt, eps);
    mp[i] = m;
    vp[i] = v;
    pp[i] = next;
    dp[i] = next - old;
  }
}

void sgd_range(float* __restrict pp, float* __restrict bp, float* __restrict dp, const float* __restrict gp, size_t len,
               float coef, float lr, float momentum, float wd, bool first) {
  for (size_t i = 0; i < len; ++i) {
    const float buf = sgd_buffer(bp[i], gp[i] * coef, pp[i], momentum, wd, first);
    bp[i] = buf;
    dp[i] = -lr * buf;
    pp[i] += dp[i];
  }
}

}  // namespace resnorm

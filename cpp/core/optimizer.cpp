// Optimiser updates, vectorised per slice with Eigen arrays.
#include "optimizer.h"

#include <cmath>

#include "parallel.h"
#include "step_math.h"

namespace resnorm {

double learning_rate(const OptimConfig& o, int step) {
  if (step < o.warmup) return o.lr * (step + 1) / o.warmup;
  if (o.schedule == Schedule::Constant) return o.lr;
  const double span = std::max(1, o.steps - o.warmup);
  const double progress = std::min(1.0, (step - o.warmup) / span);
  return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1.0 + std::cos(3.141592653589793 * progress));
}

Optimizer::Optimizer(const OptimConfig& cfg, const std::vector<Slice>& slices, size_t n)
    : cfg_(cfg), slices_(slices), m_(n, 0.0f), v_(cfg.name == OptimName::AdamW ? n : 0, 0.0f), delta_(n, 0.0f) {}

void Optimizer::reset() {
  std::fill(m_.begin(), m_.end(), 0.0f);
  std::fill(v_.begin(), v_.end(), 0.0f);
  t_ = 0;
}

namespace {
// AdamW on one range, one pass over its five arrays (restrict parameters, so compilers vectorise it).
void adamw_range(float* __restrict pp, float* __restrict mp, float* __restrict vp, float* __restrict dp,
                 const float* __restrict gp, size_t len, float dec, float b1, float b2, float step_size,
                 float bc2_sqrt, float eps) {
  for (size_t i = 0; i < len; ++i) {
    const float old = pp[i];
    float m = mp[i], v = vp[i];
    const float next = adamw_element(old * dec, gp[i], m, v, b1, b2, step_size, bc2_sqrt, eps);
    mp[i] = m;
    vp[i] = v;
    pp[i] = next;
    dp[i] = next - old;
  }
}

// SGD with momentum on one range: the buffer, then the step -lr * buffer as the update.
void sgd_range(float* __restrict pp, float* __restrict bp, float* __restrict dp, const float* __restrict gp, size_t len,
               float lr, float momentum, float wd, bool first) {
  for (size_t i = 0; i < len; ++i) {
    const float buf = sgd_buffer(bp[i], gp[i], pp[i], momentum, wd, first);
    bp[i] = buf;
    dp[i] = -lr * buf;
    pp[i] += dp[i];
  }
}
}  // namespace

void Optimizer::update(float* params, const float* grads, double lr) {
  ++t_;
  const float flr = static_cast<float>(lr);
  // Every element is updated on its own, so slices (and pieces of long slices, parallel_elementwise's
  // rule) run on the pool as independent tasks; one thread, or a small model, runs each slice whole, in order.
  const auto run = [&](const auto& range) {
    parallel_tasks(static_cast<int>(slices_.size()), static_cast<double>(m_.size()), [&](int c) {
      const Slice& s = slices_[static_cast<size_t>(c)];
      const size_t o = s.offset;
      parallel_elementwise(s.size, {params + o, grads + o, m_.data() + o, delta_.data() + o},
                           [&](size_t off, size_t len) { range(s, off, len); });
    });
  };
  if (cfg_.name == OptimName::AdamW) {
    const float b1 = static_cast<float>(cfg_.beta1), b2 = static_cast<float>(cfg_.beta2);
    const float eps = static_cast<float>(cfg_.eps);
    const AdamWBias bias = adamw_bias(lr, cfg_.beta1, cfg_.beta2, t_);
    const float decay = 1.0f - flr * static_cast<float>(cfg_.weight_decay);
    run([&](const Slice& s, size_t off, size_t len) {
      // One pass over the five arrays (it was six Eigen expressions, ten loads and five stores an
      // element: 18% of a 3 x 256 mlp step, bound by memory). The same arithmetic in the same order:
      // decay, m, v with (1 - b2) * g^2, then an exact sqrt (IEEE, as PyTorch's; Eigen's vectorised
      // sqrt under its default EIGEN_FAST_MATH starts from the CPU's rsqrt estimate, which differs
      // between x86 and WebAssembly and would break the wasm == native-sse bit-identity,
      // tests/js/engine.native.test.ts). -fno-math-errno (CMakeLists.txt) lets the compilers
      // vectorise it: sqrtps / f32x4.sqrt, both exact.
      const size_t at = s.offset + off;
      const float dec = s.decay && cfg_.weight_decay > 0 ? decay : 1.0f;  // x * 1 is x, exactly
      adamw_range(params + at, m_.data() + at, v_.data() + at, delta_.data() + at, grads + at, len, dec, b1, b2,
                  bias.step_size, bias.bc2_sqrt, eps);
    });
  } else {
    const float mom = static_cast<float>(cfg_.momentum), wd = static_cast<float>(cfg_.weight_decay);
    run([&](const Slice& s, size_t off, size_t len) {
      const size_t at = s.offset + off;
      sgd_range(params + at, m_.data() + at, delta_.data() + at, grads + at, len, flr, mom, s.decay ? wd : 0.0f, t_ == 1);
    });
  }
}

}  // namespace resnorm

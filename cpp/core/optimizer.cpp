// Optimiser updates, vectorised per slice with Eigen arrays.
#include "optimizer.h"

#include <cmath>

#include "ops/eigen_maps.h"
#include "parallel.h"

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
    const double bc1 = 1.0 - std::pow(cfg_.beta1, t_);
    const double bc2 = 1.0 - std::pow(cfg_.beta2, t_);
    const float step_size = static_cast<float>(lr / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    run([&](const Slice& s, size_t off, size_t len) {
      const size_t at = s.offset + off;
      const auto n = static_cast<Eigen::Index>(len);
      MapArr p(params + at, n), m(m_.data() + at, n), v(v_.data() + at, n), d(delta_.data() + at, n);
      CMapArr g(grads + at, n);
      d = p;  // old value
      if (s.decay && cfg_.weight_decay > 0) p *= 1.0f - flr * static_cast<float>(cfg_.weight_decay);
      m = b1 * m + (1.0f - b1) * g;
      v = b2 * v + (1.0f - b2) * g.square();
      // An exact sqrt (IEEE, as PyTorch's), element by element: Eigen's vectorised sqrt under its
      // default EIGEN_FAST_MATH starts from the CPU's rsqrt estimate, which differs between x86 and
      // WebAssembly and would break the wasm == native-sse bit-identity (tests/js/engine.native.test.ts).
      // (-fno-math-errno, CMakeLists.txt, lets the compilers vectorise this loop: sqrtps / f32x4.sqrt, both exact.)
      float* __restrict pp = params + at;
      const float* __restrict mp = m_.data() + at;
      const float* __restrict vp = v_.data() + at;
      for (Eigen::Index i = 0; i < n; ++i) pp[i] -= step_size * mp[i] / (std::sqrt(vp[i]) / bc2_sqrt + eps);
      d = p - d;
    });
  } else {
    const float mom = static_cast<float>(cfg_.momentum), wd = static_cast<float>(cfg_.weight_decay);
    run([&](const Slice& s, size_t off, size_t len) {
      const size_t at = s.offset + off;
      const auto n = static_cast<Eigen::Index>(len);
      MapArr p(params + at, n), buf(m_.data() + at, n), d(delta_.data() + at, n);
      CMapArr g(grads + at, n);
      const float swd = s.decay ? wd : 0.0f;
      if (t_ == 1 || mom == 0.0f)
        buf = g + swd * p;
      else
        buf = mom * buf + g + swd * p;
      d = -flr * buf;
      p += d;
    });
  }
}

}  // namespace resnorm

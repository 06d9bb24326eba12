// Shared helpers for the Catch2 tests: random buffers and central finite differences.
#pragma once
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "config.h"
#include "model.h"
#include "rng.h"

namespace resnorm_test {

inline std::vector<float> random_vec(size_t n, uint64_t seed, float scale = 1.0f) {
  resnorm::Rng r(seed, 99);
  std::vector<float> v(n);
  for (auto& x : v) x = scale * r.normal();
  return v;
}

// Compares an analytic gradient with central differences of f (computed in double) with respect
// to every element of x (or `max_checks` elements spread evenly). Returns the worst relative error
// max |a - n| / max(|a| + |n|, floor).
inline double grad_error(std::vector<float>& x, const std::vector<float>& analytic, const std::function<double()>& f,
                         float h = 1e-2f, double floor = 1e-2, size_t max_checks = 64) {
  double worst = 0.0;
  const size_t stride = x.size() > max_checks ? x.size() / max_checks : 1;
  for (size_t i = 0; i < x.size(); i += stride) {
    const float keep = x[i];
    x[i] = keep + h;
    const double up = f();
    x[i] = keep - h;
    const double down = f();
    x[i] = keep;
    const double num = (up - down) / (2.0 * h);
    const double err = std::fabs(num - analytic[i]) / std::max(std::fabs(num) + std::fabs(analytic[i]), floor);
    worst = std::max(worst, err);
  }
  return worst;
}

// Dot product in double: the scalar "loss" used to test an op (loss = sum(out * r)).
inline double dot(const float* a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < b.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Every block setting, for tests that sweep residual x norm x placement.
constexpr resnorm::Residual kResiduals[] = {resnorm::Residual::None, resnorm::Residual::Identity,
                                            resnorm::Residual::ReZero, resnorm::Residual::DeepNorm};
constexpr resnorm::NormKind kNorms[] = {resnorm::NormKind::None, resnorm::NormKind::LayerNorm,
                                        resnorm::NormKind::RmsNorm};
constexpr resnorm::Placement kPlacements[] = {resnorm::Placement::Pre, resnorm::Placement::Post,
                                              resnorm::Placement::Sandwich};

// Moves ReZero gates and norm gains off their initial 0 / 1 so every path of a block carries gradient.
inline void perturb(float* params, const std::vector<resnorm::Slice>& slices) {
  resnorm::Rng r(7, 7);
  for (const resnorm::Slice& s : slices)
    if (s.name.find("rezero") != std::string::npos || s.name.find("norm_") != std::string::npos)
      for (size_t i = 0; i < s.size; ++i) params[s.offset + i] += 0.3f + 0.2f * r.uniform();
}

}  // namespace resnorm_test

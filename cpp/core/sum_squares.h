// Sum of squares of floats, accumulated in double: the per-block gradient, weight and update norms and the
// residual stream's RMS of every train step (trainer.cpp, model.cpp).
#pragma once
#include <cstddef>

namespace resnorm {

// kLanes independent partial sums (element i goes to lane i % kLanes), combined pairwise in a fixed order.
// The order is written out in the source, so every build gets the same value: a float times a float is
// exact in double, so FMA contraction (-march=native) changes nothing either, and compilers may keep the
// lanes in vector registers. One running sum was bound by the add's latency, ~4 cycles an element: a fifth
// of an mlp-spiral step, a sixth of a 3 x 256 one (issue 13).
inline double sum_squares(const float* x, size_t n) {
  constexpr size_t kLanes = 8;
  double acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) acc[k] += static_cast<double>(x[i + k]) * x[i + k];
  for (size_t k = 0; i < n; ++i, ++k) acc[k] += static_cast<double>(x[i]) * x[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace resnorm

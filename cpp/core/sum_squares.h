// Sum of squares of floats: the per-block gradient, weight and update norms and the residual stream's RMS
// of every train step (trainer.cpp, model.cpp).
#pragma once
#include <cstddef>

namespace resnorm {

// Blocks of 64 elements: within a block, kLanes float partial sums (element i goes to lane i % kLanes),
// each block's lanes then added to kLanes double sums, combined pairwise in a fixed order; the tail after
// the last full block goes straight into the double sums. The order is written out in the source, so
// builds with the same arithmetic get the same value (the wasm build and native-sse; -march=native may
// fuse a square into its add). A block's float sums hold 8 squares each: relative error ~1e-6 at worst,
// what PyTorch's float norms give too. In double lanes throughout (until issue 13's GEMM work) this was
// 5% of a wasm 3 x 256 mlp step, f64x2 work on every element; float lanes do four elements an instruction.
inline double sum_squares(const float* x, size_t n) {
  constexpr size_t kLanes = 8, kBlock = 64;
  double acc[kLanes] = {};
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    float part[kLanes] = {};
    for (size_t j = i; j < i + kBlock; j += kLanes)
      for (size_t k = 0; k < kLanes; ++k) part[k] += x[j + k] * x[j + k];
    float block = 0.0f;
    for (size_t k = 0; k < kLanes; ++k) block += part[k];
    if (block <= 3.0e38f) {  // finite: every partial sum is at most the block's
      for (size_t k = 0; k < kLanes; ++k) acc[k] += part[k];
    } else {  // a square past float's range (|x| > 1.8e19, a diverging run) or a NaN: this block in double,
      // so a huge but finite gradient is reported as huge, not as "not finite"
      for (size_t j = i; j < i + kBlock; j += kLanes)
        for (size_t k = 0; k < kLanes; ++k) acc[k] += static_cast<double>(x[j + k]) * x[j + k];
    }
  }
  for (size_t k = 0; i < n; ++i, k = (k + 1) % kLanes) acc[k] += static_cast<double>(x[i]) * x[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace resnorm

// See sum_squares.h.
#include "sum_squares.h"

namespace resnorm {

double sum_squares(const float* x, size_t n) {
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

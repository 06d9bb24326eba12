// Softmax cross-entropy, mean over rows, forward and backward (forward with null targets only
// fills the probabilities and returns 0). The loss uses log-sum-exp with the
// row max subtracted, so large logits do not overflow.
#include <cmath>

#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

double cross_entropy_forward(float* probs, const float* logits, const int* targets, int N, int V) {
  double total = 0.0;
  for (int i = 0; i < N; ++i) {
    const size_t o = static_cast<size_t>(i) * V;
    CMapArr z(logits + o, V);
    MapArr p(probs + o, V);
    const float m = z.maxCoeff();
    p = (z - m).exp();
    const float s = p.sum();
    p /= s;
    if (targets) total += static_cast<double>(std::log(s)) + m - z[targets[i]];
  }
  return total / N;
}

void cross_entropy_backward(float* dlogits, const float* probs, const int* targets, int N, int V) {
  const float inv = 1.0f / static_cast<float>(N);
  for (int i = 0; i < N; ++i) {
    const size_t o = static_cast<size_t>(i) * V;
    MapArr(dlogits + o, V) += CMapArr(probs + o, V) * inv;
    dlogits[o + targets[i]] -= inv;
  }
}

}  // namespace resnorm

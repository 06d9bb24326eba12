#include "inspect.h"

#include <algorithm>
#include <string>

#include "error.h"

namespace resnorm {

std::vector<float> cnn_probs(Trainer& t, const float* images, int n) {
  if (!t.config().is_cnn()) throw Error("probs: only for model.kind = \"cnn\"");
  if (n < 0 || n > 100000) throw Error("probs: " + std::to_string(n) + " images is out of range (0..100000)");
  Model& m = t.model();
  const int K = m.vocab(), cap = m.max_rows();
  const auto dim = static_cast<size_t>(t.dataset().dim);
  std::vector<float> out(static_cast<size_t>(n) * K);
  const bool was = m.training();
  m.set_training(false);  // running statistics; restored below even if a forward throws
  try {
    for (int start = 0; start < n; start += cap) {
      const int b = std::min(cap, n - start);
      m.forward(images + dim * static_cast<size_t>(start), nullptr, nullptr, b, 1);
      std::copy(m.probs(), m.probs() + static_cast<size_t>(b) * K, out.begin() + static_cast<std::ptrdiff_t>(start) * K);
    }
  } catch (...) {
    m.set_training(was);
    throw;
  }
  m.set_training(was);
  return out;
}

}  // namespace resnorm

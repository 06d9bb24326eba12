#include "inspect.h"

#include <algorithm>
#include <string>

#include "error.h"

namespace resnorm {

namespace {
// Runs f with the model in eval mode, restoring the mode afterwards even if f throws.
template <class F>
void in_eval(Model& m, F&& f) {
  const bool was = m.training();
  m.set_training(false);
  try {
    f();
  } catch (...) {
    m.set_training(was);
    throw;
  }
  m.set_training(was);
}
}  // namespace

std::vector<float> cnn_probs(Trainer& t, const float* images, int n) {
  if (!t.config().is_cnn()) throw Error("probs: only for model.kind = \"cnn\"");
  if (n < 0 || n > 100000) throw Error("probs: " + std::to_string(n) + " images is out of range (0..100000)");
  Model& m = t.model();
  const int K = m.vocab(), cap = m.max_rows();
  const auto dim = static_cast<size_t>(t.dataset().dim);
  std::vector<float> out(static_cast<size_t>(n) * K);
  in_eval(m, [&] {  // running statistics
    for (int start = 0; start < n; start += cap) {
      const int b = std::min(cap, n - start);
      m.forward(images + dim * static_cast<size_t>(start), nullptr, nullptr, b, 1);
      std::copy(m.probs(), m.probs() + static_cast<size_t>(b) * K, out.begin() + static_cast<std::ptrdiff_t>(start) * K);
    }
  });
  return out;
}

std::vector<float> cnn_features(Trainer& t, const float* image, int block, int* channels, int* h) {
  if (!t.config().is_cnn()) throw Error("features: only for model.kind = \"cnn\"");
  Model& m = t.model();
  if (block < 0 || block >= m.blocks())
    throw Error("features: block " + std::to_string(block) + " is out of range (0.." + std::to_string(m.blocks() - 1) + ")");
  const CnnBlock& k = m.plan().cnn[static_cast<size_t>(block)];
  const int C = k.cout, H = k.hout;
  std::vector<float> out(static_cast<size_t>(C) * H * H);
  in_eval(m, [&] {
    m.forward(image, nullptr, nullptr, 1, 1);
    const float* y = m.activations() + k.y;  // NHWC, one image
    for (int p = 0; p < H * H; ++p)
      for (int c = 0; c < C; ++c) out[static_cast<size_t>(c) * H * H + p] = y[static_cast<size_t>(p) * C + c];
  });
  *channels = C;
  *h = H;
  return out;
}

}  // namespace resnorm

// Helpers for the [cuda] tests: device buffers through a ModelOps, comparisons scaled to the tensor.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../cpp/testing.h"
#include "cuda_backend.h"
#include "model.h"
#include "model_ops.h"

namespace resnorm_test {

// Device memory owned by the test, released at the end.
struct Dev {
  std::unique_ptr<resnorm::ModelOps> ops;
  std::vector<void*> bufs;
  explicit Dev(const resnorm::CudaOptions& o = {}) : ops(resnorm::make_device_ops(o)) {}
  ~Dev() {
    for (void* p : bufs) ops->release(p);
  }
  template <class T>
  T* put(const std::vector<T>& h) {
    auto* p = static_cast<T*>(ops->alloc(sizeof(T) * std::max<size_t>(h.size(), 1)));
    ops->upload(p, h.data(), sizeof(T) * h.size());
    bufs.push_back(p);
    return p;
  }
  float* zeros(size_t n) { return put(std::vector<float>(n, 0.0f)); }
  template <class T>
  std::vector<T> get(const T* p, size_t n) {
    std::vector<T> h(n);
    ops->download(h.data(), p, sizeof(T) * n);
    return h;
  }
  // Sizes the ops' scratch as a gpt of this width / heads / context with `rows` rows would.
  void reserve(int C, int rows, int H = 1, int T = 1, int V = 2) {
    resnorm::ModelConfig mc;
    mc.kind = resnorm::ModelKind::Gpt;
    mc.depth = 1;
    mc.width = C;
    mc.heads = H;
    mc.context = T;
    ops->reserve(resnorm::make_plan(mc, V, rows), rows);
  }
};

// max |a - b| / max(max |b|, floor): the error relative to the reference tensor's scale.
inline double scaled_err(const std::vector<float>& a, const std::vector<float>& b, double floor = 1e-6) {
  double scale = floor, worst = 0.0;
  for (float x : b) scale = std::max(scale, static_cast<double>(std::fabs(x)));
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(d <= worst)) worst = d;  // NaN is the worst
  }
  return worst / scale;
}

// The tiny Shakespeare text: $RESNORM_DATA (a file) or the build's web/public/data copy.
inline const std::string& shakespeare() {
  static std::string text;
  if (text.empty()) {
    const char* env = std::getenv("RESNORM_DATA");
    const std::string path = env && *env ? env : std::string(RESNORM_DATA_DIR) + "/tinyshakespeare.txt";
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    if (text.empty()) throw std::runtime_error("cannot read " + path + " (set RESNORM_DATA to the text file)");
  }
  return text;
}

inline std::vector<int> random_ints(size_t n, int hi, uint64_t seed) {
  resnorm::Rng r(seed, 17);
  std::vector<int> v(n);
  for (auto& x : v) x = static_cast<int>(r.below(static_cast<uint32_t>(hi)));
  return v;
}

}  // namespace resnorm_test

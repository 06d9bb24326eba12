// Helpers for the [cuda] tests: device buffers through a ModelOps, comparisons scaled to the tensor.
#pragma once
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../cpp/testing.h"
#include "cuda_backend.h"
#include "model.h"
#include "exec/model_ops.h"

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

}  // namespace resnorm_test

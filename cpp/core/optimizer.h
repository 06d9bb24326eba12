// AdamW (Loshchilov & Hutter 2019) and SGD with momentum over the flat parameter block, with the
// learning-rate schedule (linear warmup, then constant or cosine decay to min_lr). The update
// formulas follow PyTorch's torch.optim.AdamW / SGD so the parity test can compare step by step.
#pragma once
#include <vector>

#include "aligned.h"
#include "config.h"
#include "model.h"

namespace resnorm {

double learning_rate(const OptimConfig& o, int step);  // step is 0-based

class Optimizer {
 public:
  Optimizer(const OptimConfig& cfg, const std::vector<Slice>& slices, size_t n);
  // One update with learning rate lr. delta() then holds new_param - old_param for every element.
  void update(float* params, const float* grads, double lr);
  const float* delta() const { return delta_.data(); }
  int updates() const { return t_; }
  // The state a checkpoint carries (checkpoint.h): m_ (AdamW's first moment or SGD's momentum buffer),
  // v_ (AdamW's second moment; empty for SGD), and the update count.
  float* moment1() { return m_.data(); }
  float* moment2() { return v_.empty() ? nullptr : v_.data(); }
  const float* moment1() const { return m_.data(); }
  const float* moment2() const { return v_.empty() ? nullptr : v_.data(); }
  void set_updates(int t) { t_ = t; }
  void reset();
  void set_config(const OptimConfig& cfg) { cfg_ = cfg; }
  size_t bytes() const { return sizeof(float) * (m_.size() + v_.size() + delta_.size()); }

 private:
  OptimConfig cfg_;
  std::vector<Slice> slices_;
  FloatBuffer m_, v_, delta_;  // moments (m_ is SGD's momentum buffer) and the last update
  int t_ = 0;                         // updates applied so far
};

}  // namespace resnorm

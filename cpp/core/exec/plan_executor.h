// PlanExecutor: runs the core's ModelPlan (cpp/core/model.h, the one model definition) through a
// ModelOps backend: the same op list as Model::forward / Model::backward, with each residual add
// fused into the norm that follows it (forward) and into that norm's backward.
#pragma once
#include <cstddef>
#include <vector>

#include "model.h"
#include "model_ops.h"

namespace resnorm {

// Token rows grouped by token id for the deterministic wte gradient: rows [N], start [V+1].
void make_token_buckets(const int* tokens, int N, int V, int* rows, int* start);

class PlanExecutor {
 public:
  PlanExecutor(ModelOps& ops, const ModelConfig& cfg, int vocab, int max_rows);
  ~PlanExecutor();
  PlanExecutor(const PlanExecutor&) = delete;
  PlanExecutor& operator=(const PlanExecutor&) = delete;

  // Backend bytes an executor of this plan allocates (parameters, gradients, activations, their
  // gradients, attention probabilities, inputs), not counting the ops' scratch.
  static size_t bytes_for(const ModelPlan& plan);

  const ModelPlan& plan() const { return plan_; }
  int rows() const { return B_ * T_; }
  int B() const { return B_; }
  int T() const { return T_; }

  // Backend memory.
  float* params() { return params_; }
  const float* params() const { return params_; }
  float* grads() { return grads_; }
  const float* grads() const { return grads_; }
  float* acts() { return acts_; }
  const float* acts() const { return acts_; }
  float* dacts() { return dacts_; }
  float* att() { return att_; }
  const float* att() const { return att_; }
  // Bytes this executor allocated (its blocks; the ops' scratch not counted).
  size_t bytes() const { return bytes_; }
  // BatchNorm's running statistics (ModelPlan::buffers' layout) and the copy taken before a step.
  float* buffers() { return bufs_; }
  const float* buffers() const { return bufs_; }
  float* saved_buffers() { return bufs_saved_; }
  // BatchNorm: training mode (batch statistics, running ones updated) or eval mode (the default).
  void set_training(bool t) { training_ = t; }
  bool training() const { return training_; }
  float* losses() { return losses_; }
  const float* probs() const { return acts_ + plan_.probs; }
  const float* logits() const { return acts_ + plan_.logits; }

  // Uploads a batch (host arrays; targets may be null) and, with buckets, the token groups the
  // embedding backward needs. Call outside ModelOps::run(). With ops whose memory is the host's
  // (host_memory()), nothing is copied: the arrays must stay valid until the backward.
  void set_batch(const float* points, const int* tokens, const int* targets, int B, int T, bool buckets);
  // The forward of the last set_batch. loss: backend address that receives the mean loss (needs targets).
  void forward(double* loss);
  // Adds d(loss)/d(params) into grads() (zero them first) for the last forward.
  void backward();

 private:
  float* P(size_t o) { return params_ + o; }
  float* Pn(size_t o) { return o == kNoOffset ? nullptr : params_ + o; }
  float* G(size_t o) { return grads_ + o; }
  float* Gn(size_t o) { return o == kNoOffset ? nullptr : grads_ + o; }
  float* A(size_t o) { return acts_ + o; }
  float* D(size_t o) { return dacts_ + o; }
  void free_all();
  float alpha(const SubPlan& s) const;
  const float* gate(const SubPlan& s);
  void branch_forward(const SubPlan& s, int N);
  void branch_backward(const SubPlan& s, int N);
  // A norm (any kind, BatchNorm with its buffers at buf) and a residual followed by a norm: fused for
  // LayerNorm / RMSNorm, residual then BatchNorm otherwise (BatchNorm's statistics span the batch).
  void nfwd(size_t out, size_t mean, size_t rstd, const float* in, size_t w, size_t b, size_t buf, int N, int C);
  void nbwd(float* din, size_t w, size_t b, size_t dout, const float* in, size_t mean, size_t rstd, int N, int C);
  void cnn_forward();
  void cnn_backward();
  const float* cnn_in(const CnnOp& o);

  ModelOps& ops_;
  ModelPlan plan_;
  NormKind norm_;
  int B_ = 0, T_ = 0;
  bool has_targets_ = false, training_ = false;
  int sample_dim_ = 2;
  float *params_ = nullptr, *grads_ = nullptr, *acts_ = nullptr, *dacts_ = nullptr, *att_ = nullptr;
  float *points_ = nullptr, *losses_ = nullptr, *bufs_ = nullptr, *bufs_saved_ = nullptr;
  int *tokens_ = nullptr, *targets_ = nullptr, *bucket_rows_ = nullptr, *bucket_start_ = nullptr;
  // The batch the walk reads: the uploaded copies above, or the caller's arrays (host_memory()).
  const float* in_points_ = nullptr;
  const int *in_tokens_ = nullptr, *in_targets_ = nullptr;
  size_t bytes_ = 0;
  std::vector<int> host_rows_, host_start_;
};

}  // namespace resnorm

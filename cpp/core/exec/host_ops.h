// HostOps: the backend op set (model_ops.h) on host memory, built from the CPU core's ops. It is the
// reference the CUDA backend's walk, fusions, optimiser and statistics are tested against without a GPU.
// CpuOps: HostOps as the CPU Model runs it (Model is a PlanExecutor over CpuOps).
#pragma once
#include <vector>

#include "aligned.h"
#include "model_ops.h"

namespace resnorm {

class HostOps : public ModelOps {
 public:
  const char* name() const override { return "host"; }
  void* alloc(size_t bytes) override;
  void release(void* p) override;
  void upload(void* dst, const void* src, size_t bytes) override;
  void download(void* dst, const void* src, size_t bytes) override;
  void zero(void* p, size_t bytes) override;
  void sync() override {}
  void reserve(const ModelPlan& plan, int rows) override;

  void linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC) override;
  void linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w, int N,
                       int IC, int OC) override;
  void embedding_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T,
                         int C) override;
  void embedding_backward(float* dwte, float* dwpe, const float* dout, const int* tokens, const int* bucket_rows,
                          const int* bucket_start, int B, int T, int C, int V) override;
  void norm_forward(NormKind k, float* out, float* mean, float* rstd, const float* in, const float* w, const float* b,
                    int N, int C, float eps) override;
  void norm_backward(NormKind k, float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                     const float* mean, const float* rstd, int N, int C) override;
  void activation_forward(float* out, const float* in, size_t n, Activation act) override;
  void activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act) override;
  void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H) override;
  void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att, int B, int T, int C,
                          int H) override;
  void cross_entropy_forward(float* probs, float* losses, const float* logits, const int* targets, int N,
                             int V) override;
  void cross_entropy_backward(float* dlogits, const float* probs, const int* targets, int N, int V) override;
  void residual_forward(float* out, const float* x, const float* f, size_t n, Residual kind, float a,
                        const float* a_ptr) override;
  void residual_backward(float* dx, float* df, float* da, const float* dout, const float* f, size_t n, Residual kind,
                         float a, const float* a_ptr) override;
  void batchnorm_forward(float* out, float* mean, float* rstd, float* running, const float* in, const float* w,
                         const float* b, int N, int C, float eps, bool train) override;
  void batchnorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                          const float* mean, const float* rstd, int N, int C) override;
  void conv2d_forward(float* out, const float* in, const float* w, int B, int H, int IC, int OC, int K, int S,
                      int P) override;
  void conv2d_backward(float* din, float* dw, const float* dout, const float* in, const float* w, int B, int H, int IC,
                       int OC, int K, int S, int P) override;
  void global_avgpool_forward(float* out, const float* in, int B, int HW, int C) override;
  void global_avgpool_backward(float* din, const float* dout, int B, int HW, int C) override;
  void restore_unless_ok(float* bufs, const float* saved, size_t n, const StepScalars* s) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void residual_norm_forward(NormKind k, float* y, float* out, float* mean, float* rstd, const float* x, const float* f,
                             const float* w, const float* b, int N, int C, float eps, Residual kind, float a,
                             const float* a_ptr) override;
  void residual_norm_backward(NormKind k, float* dx, float* df, float* da, float* dw, float* db, const float* dres,
                              const float* dnorm, const float* in, const float* w, const float* mean, const float* rstd,
                              const float* f, int N, int C, Residual kind, float a, const float* a_ptr) override;
  void mean_loss(double* out, const float* losses, int N) override;
  void sumsq(double* out, const float* base, const ChunkTable& t) override;
  void attention_entropy(float* out, const float* att, int B, int T, int H) override;
  void step_scalars(StepScalars* s, const double* slice_sq, int nslices, OptimHyper h) override;
  void optimizer_update(float* params, float* m, float* v, const float* grads, double* d2, double* w2,
                        const ChunkTable& t, const StepScalars* s, OptimHyper h) override;

 // Floats of the ops' own scratch (after reserve()).
  size_t scratch_floats() const { return scratch_.size() + cols_.size(); }

 protected:
  FloatBuffer scratch_;  // attention backward [T,T]; fused backward [rows, C]; BatchNorm backward [2C]
  FloatBuffer cols_;     // conv im2col columns | their gradient (ModelPlan::scratch)
  std::vector<double> partial_;  // the reductions' per-chunk sums (sized at the first step)
};

// The CPU Model's op set: HostOps on the caller's memory, with three differences that keep the CPU
// path what it was before it ran on the executor, bit for bit and instruction for instruction:
// - the batch is read where it is (host_memory), not copied;
// - the backward clears only the activation-gradient rows the batch uses (an mlp's capacity is 256
//   rows for evaluation while it trains on 32), as independent tasks on the thread pool;
// - the loss is the core's cross_entropy_forward mean (summed in double row by row), so the
//   per-row losses are not written: mean_loss returns that mean;
// - the fused residual+norm backward adds the norm's input gradient into the stream's gradient
//   in place (dres), the unfused order, instead of through a scratch copy.
class CpuOps final : public HostOps {
 public:
  const char* name() const override { return "cpu"; }
  bool host_memory() const override { return true; }
  void zero_act_grads(float* dacts, const ModelPlan& plan, int rows) override;
  void cross_entropy_forward(float* probs, float* losses, const float* logits, const int* targets, int N,
                             int V) override;
  void mean_loss(double* out, const float* losses, int N) override;
  void residual_norm_backward(NormKind k, float* dx, float* df, float* da, float* dw, float* db, const float* dres,
                              const float* dnorm, const float* in, const float* w, const float* mean, const float* rstd,
                              const float* f, int N, int C, Residual kind, float a, const float* a_ptr) override;

 private:
  double loss_ = 0.0;  // the last cross_entropy_forward's mean loss
};

}  // namespace resnorm

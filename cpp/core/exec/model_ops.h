// The op set the backend's ModelPlan executor calls: the core's ops (cpp/core/ops/ops.h, same
// argument order, backward adds into gradients) plus fused residual+norm ops, the optimiser and the
// diagnostics. DeviceOps runs them as CUDA kernels; HostOps runs them with the CPU core's ops, so the
// backend's walk, fusions, optimiser and statistics are tested on machines without a GPU too (ggml's
// "every backend implements the same ops" idea). Pure C++: no CUDA header is included here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "config.h"

namespace resnorm {

struct ModelPlan;

// Per-step scalars kept in backend memory, so a whole train step (forward, backward, diagnostics,
// guard, clipping, update) runs without the host looking at any value in between (and can be
// recorded once as a CUDA graph). Shared by host and device code: plain data, fixed layout.
struct StepScalars {
  double loss = 0;     // mean cross-entropy of the batch
  double grad_sq = 0;  // squared global gradient norm (before clipping)
  int ok = 0;          // 1 when loss and gradient are finite: the update is applied
  int t = 0;           // updates applied so far (AdamW bias correction, SGD's first step)
  double lr = 0;       // learning rate of this step (uploaded by the host)
  float clip_coef = 1; // gradient scale from global-norm clipping (1 = none)
  float step_size = 0; // AdamW: lr / (1 - beta1^t)
  float bc2_sqrt = 1;  // AdamW: sqrt(1 - beta2^t)
};

struct OptimHyper {
  int adamw = 1;  // 1 AdamW, 0 SGD with momentum
  double beta1 = 0.9, beta2 = 0.99;
  float eps = 1e-8f, weight_decay = 0, momentum = 0.9f, clip = 1.0f;
};
OptimHyper optim_hyper(const OptimConfig& o);

// A flat block (parameters, gradients or activations) reduced per segment (a parameter slice, the
// output of a block) in fixed-size chunks, so reductions are deterministic and spread over the GPU.
struct ChunkInfo {
  uint64_t begin = 0;  // first element (offset into the block)
  uint32_t len = 0;    // elements, at most kChunkElems
  uint32_t seg = 0;    // segment index
  uint32_t flags = 0;  // kChunkDecay: weight decay applies
  uint32_t pad = 0;
};
constexpr uint32_t kChunkElems = 8192;
constexpr uint32_t kChunkDecay = 1;

// A chunk table in backend memory. seg_first has nseg + 1 entries: segment s owns chunks
// seg_first[s] .. seg_first[s+1]-1, in order.
struct ChunkTable {
  const ChunkInfo* chunks = nullptr;
  const uint32_t* seg_first = nullptr;
  int nchunks = 0, nseg = 0;
};

class ModelOps {
 public:
  virtual ~ModelOps() = default;
  virtual const char* name() const = 0;

  // ---- memory: device memory for DeviceOps, host memory for HostOps
  virtual void* alloc(size_t bytes) = 0;
  virtual void release(void* p) = 0;
  virtual void upload(void* dst, const void* src, size_t bytes) = 0;    // host -> backend, in stream order
  virtual void download(void* dst, const void* src, size_t bytes) = 0;  // backend -> host; returns when done
  virtual void zero(void* p, size_t bytes) = 0;
  virtual void sync() = 0;
  // Sizes the ops' own scratch for a plan run with up to `rows` rows; called before the first run().
  virtual void reserve(const ModelPlan& plan, int rows) = 0;
  // Runs `body`, a fixed sequence of op calls on fixed buffers. DeviceOps records it as a CUDA graph
  // the second time `key` is seen and replays the graph afterwards; HostOps just calls it.
  virtual void run(const std::string& key, const std::function<void()>& body) { (void)key; body(); }
  virtual void forget_graphs() {}
  // True when the ops read host memory: the executor then uses a batch's host arrays where they
  // are instead of uploading them, and allocates no batch buffers (CpuOps).
  virtual bool host_memory() const { return false; }
  // Clears the activation gradients before a backward of `rows` rows. Default (host_ops.cpp): the
  // whole block; CpuOps clears only the rows the batch uses.
  virtual void zero_act_grads(float* dacts, const ModelPlan& plan, int rows);

  // ---- the core's ops (ops/ops.h)
  virtual void linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC) = 0;
  virtual void linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                               int N, int IC, int OC) = 0;
  virtual void embedding_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T,
                                 int C) = 0;
  // bucket_rows [B*T]: row indices grouped by token id, rows ascending within a group; bucket_start
  // [V+1]: group v is bucket_rows[bucket_start[v] .. bucket_start[v+1]). Built on the host with the
  // batch (see make_token_buckets) so the wte gradient is a gather in fixed order, not a scatter.
  virtual void embedding_backward(float* dwte, float* dwpe, const float* dout, const int* tokens,
                                  const int* bucket_rows, const int* bucket_start, int B, int T, int C, int V) = 0;
  // LayerNorm (mean used) or RMSNorm (mean and b ignored, may be null).
  virtual void norm_forward(NormKind k, float* out, float* mean, float* rstd, const float* in, const float* w,
                            const float* b, int N, int C, float eps) = 0;
  virtual void norm_backward(NormKind k, float* din, float* dw, float* db, const float* dout, const float* in,
                             const float* w, const float* mean, const float* rstd, int N, int C) = 0;
  virtual void activation_forward(float* out, const float* in, size_t n, Activation act) = 0;
  virtual void activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act) = 0;
  virtual void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H) = 0;
  virtual void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att, int B, int T,
                                  int C, int H) = 0;
  // losses [N]: each row's -log p(target) (rows need targets). Mean taken by mean_loss().
  virtual void cross_entropy_forward(float* probs, float* losses, const float* logits, const int* targets, int N,
                                     int V) = 0;
  virtual void cross_entropy_backward(float* dlogits, const float* probs, const int* targets, int N, int V) = 0;
  // ReZero reads its gate from a_ptr (a parameter in backend memory); the others use a.
  virtual void residual_forward(float* out, const float* x, const float* f, size_t n, Residual kind, float a,
                                const float* a_ptr) = 0;
  virtual void residual_backward(float* dx, float* df, float* da, const float* dout, const float* f, size_t n,
                                 Residual kind, float a, const float* a_ptr) = 0;

  // ---- issue 11's ops (cpp/core/ops/batchnorm.cpp, conv2d.cpp, pool.cpp)
  // BatchNorm over the N rows of [N,C]. running: running_mean [C], running_var [C], num_batches_tracked
  // [1], contiguous (the plan's buffer block); train: batch statistics, running ones updated with
  // kBatchNormMomentum and the count incremented; eval: the running statistics, nothing updated.
  virtual void batchnorm_forward(float* out, float* mean, float* rstd, float* running, const float* in, const float* w,
                                 const float* b, int N, int C, float eps, bool train) = 0;
  virtual void batchnorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                                  const float* mean, const float* rstd, int N, int C) = 0;
  // NHWC conv without bias, weight [OC,IC,K,K], square images of side H, padding P, stride S; the
  // ops own the im2col scratch (sized by reserve() from ModelPlan::scratch). din may be null.
  virtual void conv2d_forward(float* out, const float* in, const float* w, int B, int H, int IC, int OC, int K, int S,
                              int P) = 0;
  virtual void conv2d_backward(float* din, float* dw, const float* dout, const float* in, const float* w, int B, int H,
                               int IC, int OC, int K, int S, int P) = 0;
  virtual void global_avgpool_forward(float* out, const float* in, int B, int HW, int C) = 0;
  virtual void global_avgpool_backward(float* din, const float* dout, int B, int HW, int C) = 0;
  // The divergence guard's rollback of BatchNorm's running statistics: when !s->ok, n floats of
  // `saved` (taken before the step) are copied back over `bufs`; nothing happens when ok.
  virtual void restore_unless_ok(float* bufs, const float* saved, size_t n, const StepScalars* s) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;  // backend -> backend, in stream order

  // ---- fused ops
  // y = R(x, f); out = Norm(y) (y is kept for the backward).
  virtual void residual_norm_forward(NormKind k, float* y, float* out, float* mean, float* rstd, const float* x,
                                     const float* f, const float* w, const float* b, int N, int C, float eps,
                                     Residual kind, float a, const float* a_ptr) = 0;
  // g = (dres or 0) + d Norm(in)/d in . dnorm (dw, db accumulate), then the residual backward of g:
  // dx += dR/dx g, df += dR/df g, da += sum(g * f). dres: the gradient the residual stream already
  // holds at `in` (null when none).
  virtual void residual_norm_backward(NormKind k, float* dx, float* df, float* da, float* dw, float* db,
                                      const float* dres, const float* dnorm, const float* in, const float* w,
                                      const float* mean, const float* rstd, const float* f, int N, int C,
                                      Residual kind, float a, const float* a_ptr) = 0;

  // ---- diagnostics and optimiser
  virtual void mean_loss(double* out, const float* losses, int N) = 0;
  // out[s] = sum of squares of segment s of `base` (double).
  virtual void sumsq(double* out, const float* base, const ChunkTable& t) = 0;
  // out[h] = mean over batch and positions of the entropy of head h's attention rows (one layer).
  virtual void attention_entropy(float* out, const float* att, int B, int T, int H) = 0;
  // From slice_sq (the gradient's squared norms per slice) and s->loss, s->lr: grad_sq, ok, clip_coef and,
  // when ok, t += 1 and the AdamW bias corrections.
  virtual void step_scalars(StepScalars* s, const double* slice_sq, int nslices, OptimHyper h) = 0;
  // One AdamW / SGD update over the flat block when s->ok (the gradient scaled by s->clip_coef; m is
  // SGD's momentum buffer, v unused by SGD). d2[s] / w2[s] receive the squared norms of the update
  // and of the weights before it, per slice (zeros when not ok).
  virtual void optimizer_update(float* params, float* m, float* v, const float* grads, double* d2, double* w2,
                                const ChunkTable& t, const StepScalars* s, OptimHyper h) = 0;
};

}  // namespace resnorm

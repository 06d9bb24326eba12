// The core's ops as CUDA kernels (cpp/cuda/ops/<op>.cu mirrors cpp/core/ops/<op>.cpp): the same
// arguments in the same order as cpp/core/ops/ops.h, device pointers, every backward adding into its
// gradients, plus a trailing Ctx (stream, cuBLAS handles, scratch). Host-callable launchers only; the
// kernels live in the .cu files. Matrix products go through cuBLAS in fp32 (TF32 only when Ctx::tf32).
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>

#include "config.h"
#include "exec/model_ops.h"

namespace resnorm {
namespace cuda {

struct Caches;  // cuBLASLt algorithms and attention pointer arrays (linear.cu, attention.cu)

struct Ctx {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;  // cuBLAS / cuBLASLt workspace (fixed, so graph capture never allocates)
  size_t workspace_bytes = 0;
  float* scratch = nullptr;   // op scratch: norm-backward partials, attention dS, reduction partials
  size_t scratch_floats = 0;
  float* conv_scratch = nullptr;  // conv2d's im2col columns | their gradient (ModelPlan::scratch floats)
  size_t conv_scratch_floats = 0;
  const float* ones = nullptr;  // [ones_len] of 1.0f: bias gradients as a GEMV
  size_t ones_len = 0;
  int sms = 1;                // streaming multiprocessors: sizes the grid of the deterministic reductions
  bool tf32 = false;          // TF32 tensor cores for the matrix products (off: plain fp32)
  bool lt_bias = true;        // cuBLASLt with a bias epilogue for Linear forward (off: GEMM + bias kernel)
  bool capturing = false;     // inside a CUDA graph capture: no allocation, no upload
  Caches* caches = nullptr;
};

// Scratch floats the ops need for a plan run with up to `rows` rows on a device with `sms` SMs.
size_t scratch_floats_needed(const ModelConfig& cfg, int rows, int vocab, int sms, size_t nchunks);
Caches* create_caches();
void destroy_caches(Caches* c);

// Throws resnorm::Error naming the call and CUDA's message.
void check(cudaError_t e, const char* what, const char* file, int line);
void check(cublasStatus_t e, const char* what, const char* file, int line);
#define RESNORM_CUDA_CHECK(call) ::resnorm::cuda::check((call), #call, __FILE__, __LINE__)

// ---- linear.cu: out = in @ w^T + b (w is [OC, IC])
void linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC, Ctx& ctx);
void linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w, int N,
                     int IC, int OC, Ctx& ctx);

// ---- embedding.cu
void embedding_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T, int C,
                       Ctx& ctx);
void embedding_backward(float* dwte, float* dwpe, const float* dout, const int* tokens, const int* bucket_rows,
                        const int* bucket_start, int B, int T, int C, int V, Ctx& ctx);

// ---- layernorm.cu / rmsnorm.cu
void layernorm_forward(float* out, float* mean, float* rstd, const float* in, const float* w, const float* b, int N,
                       int C, float eps, Ctx& ctx);
void layernorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                        const float* mean, const float* rstd, int N, int C, Ctx& ctx);
void rmsnorm_forward(float* out, float* rstd, const float* in, const float* w, int N, int C, float eps, Ctx& ctx);
void rmsnorm_backward(float* din, float* dw, const float* dout, const float* in, const float* w, const float* rstd,
                      int N, int C, Ctx& ctx);

// ---- activation.cu
void activation_forward(float* out, const float* in, size_t n, Activation act, Ctx& ctx);
void activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act, Ctx& ctx);

// ---- attention.cu (att: softmax probabilities [B,H,T,T], kept for backward and the diagnostics)
void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H, Ctx& ctx);
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att, int B, int T, int C, int H,
                        Ctx& ctx);

// ---- cross_entropy.cu
void cross_entropy_forward(float* probs, float* losses, const float* logits, const int* targets, int N, int V,
                           Ctx& ctx);
void cross_entropy_backward(float* dlogits, const float* probs, const int* targets, int N, int V, Ctx& ctx);
void mean_loss(double* out, const float* losses, int N, Ctx& ctx);

// ---- residual.cu: the residual variants, and the residual add fused with the norm after it
void residual_forward(float* out, const float* x, const float* f, size_t n, Residual kind, float a,
                      const float* a_ptr, Ctx& ctx);
void residual_backward(float* dx, float* df, float* da, const float* dout, const float* f, size_t n, Residual kind,
                       float a, const float* a_ptr, Ctx& ctx);
void residual_norm_forward(NormKind norm, float* y, float* out, float* mean, float* rstd, const float* x,
                           const float* f, const float* w, const float* b, int N, int C, float eps, Residual kind,
                           float a, const float* a_ptr, Ctx& ctx);
void residual_norm_backward(NormKind norm, float* dx, float* df, float* da, float* dw, float* db, const float* dres,
                            const float* dnorm, const float* in, const float* w, const float* mean, const float* rstd,
                            const float* f, int N, int C, Residual kind, float a, const float* a_ptr, Ctx& ctx);

// ---- batchnorm.cu: running = running_mean [C] | running_var [C] | num_batches_tracked [1]
void batchnorm_forward(float* out, float* mean, float* rstd, float* running, const float* in, const float* w,
                       const float* b, int N, int C, float eps, float momentum, bool train, Ctx& ctx);
void batchnorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                        const float* mean, const float* rstd, int N, int C, Ctx& ctx);

// ---- conv2d.cu: NHWC, weight [OC,IC,K,K], square images of side H; im2col + cuBLAS (Ctx::conv_scratch)
void conv2d_forward(float* out, const float* in, const float* w, int B, int H, int IC, int OC, int K, int S, int P,
                    Ctx& ctx);
void conv2d_backward(float* din, float* dw, const float* dout, const float* in, const float* w, int B, int H, int IC,
                     int OC, int K, int S, int P, Ctx& ctx);

// ---- pool.cu: global average pooling over the HW positions of [B,HW,C]
void global_avgpool_forward(float* out, const float* in, int B, int HW, int C, Ctx& ctx);
void global_avgpool_backward(float* din, const float* dout, int B, int HW, int C, Ctx& ctx);

// ---- diagnostics.cu: reductions for the per-step statistics
void sumsq(double* out, const float* base, const ChunkTable& t, Ctx& ctx);
void attention_entropy(float* out, const float* att, int B, int T, int H, Ctx& ctx);

// ---- optimizer.cu: the divergence guard, clipping and AdamW / SGD in one pass over the flat block
void step_scalars(StepScalars* s, const double* slice_sq, int nslices, OptimHyper h, Ctx& ctx);
void optimizer_update(float* params, float* m, float* v, const float* grads, double* d2, double* w2,
                      const ChunkTable& t, const StepScalars* s, OptimHyper h, Ctx& ctx);
// When !s->ok: bufs[0..n) = saved[0..n) (BatchNorm's running statistics roll back with the parameters).
void restore_unless_ok(float* bufs, const float* saved, size_t n, const StepScalars* s, Ctx& ctx);

}  // namespace cuda
}  // namespace resnorm

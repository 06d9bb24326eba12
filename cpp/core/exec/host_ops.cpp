// HostOps: each backend op as the CPU core computes it (cpp/core/ops), the fused ones as the
// composition they replace; the optimiser and clipping are the core's own arithmetic (step_math.h),
// in the form the CUDA kernels use (chunked, guard in backend memory). The CPU Trainer's step is
// these ops (CpuOps) under TrainStep, so this is the host form the kernels are held to.
#include "host_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "model.h"
#include "ops/ops.h"
#include "parallel.h"
#include "step_math.h"
#include "sum_squares.h"

namespace resnorm {

OptimHyper optim_hyper(const OptimConfig& o) {
  OptimHyper h;
  h.adamw = o.name == OptimName::AdamW ? 1 : 0;
  h.beta1 = o.beta1;
  h.beta2 = o.beta2;
  h.eps = static_cast<float>(o.eps);
  h.weight_decay = static_cast<float>(o.weight_decay);
  h.momentum = static_cast<float>(o.momentum);
  h.clip = static_cast<float>(o.clip);
  return h;
}

void ModelOps::zero_act_grads(float* dacts, const ModelPlan& plan, int) { zero(dacts, sizeof(float) * plan.num_acts); }

void* HostOps::alloc(size_t bytes) {
  const size_t n = ((std::max<size_t>(bytes, 1) + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, n);
  if (!p) throw std::bad_alloc();
  return p;
}
void HostOps::release(void* p) { std::free(p); }
void HostOps::upload(void* dst, const void* src, size_t bytes) { if (bytes) std::memcpy(dst, src, bytes); }
void HostOps::download(void* dst, const void* src, size_t bytes) { if (bytes) std::memcpy(dst, src, bytes); }
void HostOps::zero(void* p, size_t bytes) { if (bytes) std::memset(p, 0, bytes); }

void HostOps::reserve(const ModelPlan& plan, int rows) {
  const size_t T = static_cast<size_t>(plan.cfg.context);
  // the fused backward's [rows, width], attention backward's [T, T], BatchNorm backward's 2 x (up to 4 x width)
  const size_t W = static_cast<size_t>(plan.cfg.width);
  const size_t need = std::max({static_cast<size_t>(rows) * W, T * T, 8 * W});
  if (scratch_.size() < need) scratch_.assign(need, 0.0f);
  if (cols_.size() < plan.scratch) cols_.assign(plan.scratch, 0.0f);
}

void HostOps::linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC) {
  resnorm::linear_forward(out, in, w, b, N, IC, OC);
}
void HostOps::linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                              int N, int IC, int OC) {
  resnorm::linear_backward(din, dw, db, dout, in, w, N, IC, OC);
}
void HostOps::embedding_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T,
                                int C) {
  resnorm::embedding_forward(out, tokens, wte, wpe, B, T, C);
}
void HostOps::embedding_backward(float* dwte, float* dwpe, const float* dout, const int* tokens, const int*,
                                 const int*, int B, int T, int C, int) {
  resnorm::embedding_backward(dwte, dwpe, dout, tokens, B, T, C);
}
void HostOps::norm_forward(NormKind k, float* out, float* mean, float* rstd, const float* in, const float* w,
                           const float* b, int N, int C, float eps) {
  if (k == NormKind::LayerNorm)
    resnorm::layernorm_forward(out, mean, rstd, in, w, b, N, C, eps);
  else
    resnorm::rmsnorm_forward(out, rstd, in, w, N, C, eps);
}
void HostOps::norm_backward(NormKind k, float* din, float* dw, float* db, const float* dout, const float* in,
                            const float* w, const float* mean, const float* rstd, int N, int C) {
  if (k == NormKind::LayerNorm)
    resnorm::layernorm_backward(din, dw, db, dout, in, w, mean, rstd, N, C);
  else
    resnorm::rmsnorm_backward(din, dw, dout, in, w, rstd, N, C);
}
void HostOps::activation_forward(float* out, const float* in, size_t n, Activation act) {
  resnorm::activation_forward(out, in, n, act);
}
void HostOps::activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act) {
  resnorm::activation_backward(din, dout, in, n, act);
}
void HostOps::attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H) {
  resnorm::attention_forward(out, att, qkv, B, T, C, H);
}
void HostOps::attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att, int B, int T,
                                 int C, int H) {
  if (scratch_.size() < static_cast<size_t>(T) * T) scratch_.assign(static_cast<size_t>(T) * T, 0.0f);
  resnorm::attention_backward(dqkv, scratch_.data(), dout, qkv, att, B, T, C, H);
}
void HostOps::cross_entropy_forward(float* probs, float* losses, const float* logits, const int* targets, int N,
                                    int V) {
  resnorm::cross_entropy_forward(probs, logits, nullptr, N, V);
  if (!targets) return;
  for (int i = 0; i < N; ++i) {  // the per-row term of cross_entropy_forward: log(sum exp(z - m)) + m - z[t]
    const float* z = logits + static_cast<size_t>(i) * V;
    const float m = *std::max_element(z, z + V);
    float s = 0.0f;
    for (int j = 0; j < V; ++j) s += std::exp(z[j] - m);
    losses[i] = std::log(s) + m - z[targets[i]];
  }
}
void HostOps::cross_entropy_backward(float* dlogits, const float* probs, const int* targets, int N, int V) {
  resnorm::cross_entropy_backward(dlogits, probs, targets, N, V);
}
void HostOps::residual_forward(float* out, const float* x, const float* f, size_t n, Residual kind, float a,
                               const float* a_ptr) {
  resnorm::residual_forward(out, x, f, n, kind, a_ptr ? *a_ptr : a);
}
void HostOps::residual_backward(float* dx, float* df, float* da, const float* dout, const float* f, size_t n,
                                Residual kind, float a, const float* a_ptr) {
  resnorm::residual_backward(dx, df, da, dout, f, n, kind, a_ptr ? *a_ptr : a);
}

void HostOps::batchnorm_forward(float* out, float* mean, float* rstd, float* running, const float* in, const float* w,
                                const float* b, int N, int C, float eps, bool train) {
  resnorm::batchnorm_forward(out, mean, rstd, running, running + C, in, w, b, N, C, eps, kBatchNormMomentum, train);
  if (train) running[2 * C] += 1.0f;  // num_batches_tracked, as Model::norm_forward
}
void HostOps::batchnorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                                 const float* mean, const float* rstd, int N, int C) {
  if (scratch_.size() < 2 * static_cast<size_t>(C)) scratch_.assign(2 * static_cast<size_t>(C), 0.0f);
  resnorm::batchnorm_backward(din, dw, db, scratch_.data(), dout, in, w, mean, rstd, N, C);
}
void HostOps::conv2d_forward(float* out, const float* in, const float* w, int B, int H, int IC, int OC, int K, int S,
                             int P) {
  const int Ho = conv2d_out_size(H, K, S, P);
  const size_t need = static_cast<size_t>(B) * Ho * Ho * IC * K * K;
  if (cols_.size() < 2 * need) cols_.assign(2 * need, 0.0f);
  resnorm::conv2d_forward(out, cols_.data(), in, w, B, H, H, IC, OC, K, S, P);
}
void HostOps::conv2d_backward(float* din, float* dw, const float* dout, const float* in, const float* w, int B, int H,
                              int IC, int OC, int K, int S, int P) {
  const int Ho = conv2d_out_size(H, K, S, P);
  const size_t need = static_cast<size_t>(B) * Ho * Ho * IC * K * K;
  if (cols_.size() < 2 * need) cols_.assign(2 * need, 0.0f);
  resnorm::conv2d_backward(din, dw, cols_.data(), cols_.data() + need, dout, in, w, B, H, H, IC, OC, K, S, P);
}
void HostOps::global_avgpool_forward(float* out, const float* in, int B, int HW, int C) {
  resnorm::global_avgpool_forward(out, in, B, HW, C);
}
void HostOps::global_avgpool_backward(float* din, const float* dout, int B, int HW, int C) {
  resnorm::global_avgpool_backward(din, dout, B, HW, C);
}
void HostOps::restore_unless_ok(float* bufs, const float* saved, size_t n, const StepScalars* s) {
  if (!s->ok && n) std::memcpy(bufs, saved, n * sizeof(float));
}
void HostOps::copy(void* dst, const void* src, size_t bytes) { if (bytes) std::memcpy(dst, src, bytes); }

void HostOps::residual_norm_forward(NormKind k, float* y, float* out, float* mean, float* rstd, const float* x,
                                    const float* f, const float* w, const float* b, int N, int C, float eps,
                                    Residual kind, float a, const float* a_ptr) {
  residual_forward(y, x, f, static_cast<size_t>(N) * C, kind, a, a_ptr);
  norm_forward(k, out, mean, rstd, y, w, b, N, C, eps);
}

void HostOps::residual_norm_backward(NormKind k, float* dx, float* df, float* da, float* dw, float* db,
                                     const float* dres, const float* dnorm, const float* in, const float* w,
                                     const float* mean, const float* rstd, const float* f, int N, int C,
                                     Residual kind, float a, const float* a_ptr) {
  const size_t n = static_cast<size_t>(N) * C;
  if (scratch_.size() < n) scratch_.assign(n, 0.0f);
  float* g = scratch_.data();
  if (dres)
    std::memcpy(g, dres, n * sizeof(float));
  else
    std::memset(g, 0, n * sizeof(float));
  norm_backward(k, g, dw, db, dnorm, in, w, mean, rstd, N, C);
  residual_backward(dx, df, da, g, f, n, kind, a, a_ptr);
}

void HostOps::mean_loss(double* out, const float* losses, int N) {
  double s = 0.0;
  for (int i = 0; i < N; ++i) s += losses[i];
  *out = s / N;
}

namespace {
// Runs fn(chunk, worker) for every chunk of a reduction table on the thread pool, or inline on one thread.
template <class Fn>
void for_chunks(int n, size_t elems, const Fn& fn) {
  if (threads() == 1 || n < 2 || static_cast<double>(elems) < 2 * kMinChunkCost) {
    for (int c = 0; c < n; ++c) fn(c, 0);
    return;
  }
  parallel_for(n, fn);
}
size_t table_elems(const ChunkTable& t) { return static_cast<size_t>(t.nchunks) * kChunkElems; }
}  // namespace

// Each chunk's sum whole (sum_squares), then each segment's chunks added in order: the same bits for
// any thread count, and on every build with the same arithmetic (sum_squares.h).
void HostOps::sumsq(double* out, const float* base, const ChunkTable& t) {
  if (partial_.size() < static_cast<size_t>(t.nchunks)) partial_.resize(static_cast<size_t>(t.nchunks));  // first step only
  double* part = partial_.data();
  for_chunks(t.nchunks, table_elems(t), [&](int c, int) {
    part[c] = sum_squares(base + t.chunks[c].begin, t.chunks[c].len);
  });
  for (int s = 0; s < t.nseg; ++s) {
    double acc = 0.0;
    for (uint32_t c = t.seg_first[s]; c < t.seg_first[s + 1]; ++c) acc += part[c];
    out[s] = acc;
  }
}

void HostOps::attention_entropy(float* out, const float* att, int B, int T, int H) {
  // Heads are independent sums, each taken whole: any thread count gives the same bits.
  parallel_tasks(H, static_cast<double>(B) * T * T * H, [&](int h) { out[h] = resnorm::attention_entropy_head(att, B, T, H, h); });
}

void HostOps::step_scalars(StepScalars* s, const double* slice_sq, int nslices, OptimHyper h) {
  double total = 0.0;
  for (int i = 0; i < nslices; ++i) total += slice_sq[i];
  s->grad_sq = total;
  s->ok = std::isfinite(s->loss) && std::isfinite(total);
  s->clip_coef = static_cast<float>(clip_coefficient(h.clip, std::sqrt(total)));
  if (!s->ok) return;
  s->t += 1;
  const AdamWBias bias = adamw_bias(s->lr, h.beta1, h.beta2, s->t);
  s->step_size = bias.step_size;
  s->bc2_sqrt = bias.bc2_sqrt;
}

// One AdamW / SGD update, chunk by chunk on the thread pool: a chunk's weights' sum of squares before
// the update, the update itself (step_math.h's loops, the update into the worker's scratch), then the
// update's sum of squares while it is in cache; per segment the chunks' sums in order.
void HostOps::optimizer_update(float* params, float* m, float* v, const float* grads, double* d2, double* w2,
                               const ChunkTable& t, const StepScalars* s, OptimHyper h) {
  for (int k = 0; k < t.nseg; ++k) d2[k] = w2[k] = 0.0;
  if (!s->ok) return;
  if (partial_.size() < 2 * static_cast<size_t>(t.nchunks)) partial_.resize(2 * static_cast<size_t>(t.nchunks));  // first step only
  double* part = partial_.data();
  const float flr = static_cast<float>(s->lr), coef = s->clip_coef;
  const float b1 = static_cast<float>(h.beta1), b2 = static_cast<float>(h.beta2);
  const float decayed = 1.0f - flr * h.weight_decay;
  for_chunks(t.nchunks, 4 * table_elems(t), [&](int c, int worker) {
    const ChunkInfo& ch = t.chunks[c];
    const size_t at = ch.begin, len = ch.len;
    const bool decay = (ch.flags & kChunkDecay) != 0;
    float* d = worker_scratch(worker, kChunkElems);
    part[2 * c + 1] = sum_squares(params + at, len);
    if (h.adamw)
      adamw_range(params + at, m + at, v + at, d, grads + at, len, coef, decay && h.weight_decay > 0 ? decayed : 1.0f,
                  b1, b2, s->step_size, s->bc2_sqrt, h.eps);
    else
      sgd_range(params + at, m + at, d, grads + at, len, coef, flr, h.momentum, decay ? h.weight_decay : 0.0f, s->t == 1);
    part[2 * c] = sum_squares(d, len);
  });
  for (int k = 0; k < t.nseg; ++k) {
    double dd = 0.0, ww = 0.0;
    for (uint32_t c = t.seg_first[k]; c < t.seg_first[k + 1]; ++c) {
      dd += part[2 * c];
      ww += part[2 * c + 1];
    }
    d2[k] = dd;
    w2[k] = ww;
  }
}

// ---- CpuOps

void CpuOps::zero_act_grads(float* dacts, const ModelPlan& plan, int rows) {
  size_t total = 0;
  for (const auto& buf : plan.act_buffers) total += static_cast<size_t>(rows) * buf.second;
  parallel_tasks(static_cast<int>(plan.act_buffers.size()), static_cast<double>(total), [&](int c) {
    const auto& [offset, per_row] = plan.act_buffers[static_cast<size_t>(c)];
    std::memset(dacts + offset, 0, sizeof(float) * rows * per_row);  // memset: fast at any -O (wasm: -Oz)
  });
}

void CpuOps::cross_entropy_forward(float* probs, float*, const float* logits, const int* targets, int N, int V) {
  loss_ = resnorm::cross_entropy_forward(probs, logits, targets, N, V);
}

void CpuOps::mean_loss(double* out, const float*, int) { *out = loss_; }

void CpuOps::residual_norm_backward(NormKind k, float* dx, float* df, float* da, float* dw, float* db,
                                    const float* dres, const float* dnorm, const float* in, const float* w,
                                    const float* mean, const float* rstd, const float* f, int N, int C,
                                    Residual kind, float a, const float* a_ptr) {
  if (!dres) {  // no gradient at `in` yet (the final norm, a post-norm): HostOps' zeroed scratch
    HostOps::residual_norm_backward(k, dx, df, da, dw, db, dres, dnorm, in, w, mean, rstd, f, N, C, kind, a, a_ptr);
    return;
  }
  // dres is the executor's activation-gradient buffer at `in`, read by nothing after this op.
  float* g = const_cast<float*>(dres);
  norm_backward(k, g, dw, db, dnorm, in, w, mean, rstd, N, C);
  residual_backward(dx, df, da, g, f, static_cast<size_t>(N) * C, kind, a, a_ptr);
}

}  // namespace resnorm

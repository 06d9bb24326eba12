// The backend's forward and backward over a ModelPlan. The op list is Model::forward / backward's
// (cpp/core/model.cpp) with two fusions, both exact rewrites of that list:
//   forward:  a residual add followed by a norm (the next sublayer's norm_in, the final norm, or a
//             post-norm) is one op, residual_norm_forward, which still stores the residual stream;
//   backward: that norm's backward is one op with the residual backward it feeds, so the stream's
//             gradient is summed in registers and passed to both branches without a round trip
//             (the "fused residual + LayerNorm" kernels of llm.c and Apex, applied to every block setting).
#include "plan_executor.h"

#include <algorithm>
#include <cmath>

#include "error.h"

namespace resnorm {

void make_token_buckets(const int* tokens, int N, int V, int* rows, int* start) {
  std::fill(start, start + V + 1, 0);
  for (int i = 0; i < N; ++i) ++start[tokens[i] + 1];
  for (int v = 0; v < V; ++v) start[v + 1] += start[v];
  std::vector<int> next(start, start + V);
  for (int i = 0; i < N; ++i) rows[next[static_cast<size_t>(tokens[i])]++] = i;  // stable: rows ascend per token
}

namespace {
int sample_floats(const ModelConfig& c) { return c.kind == ModelKind::Cnn ? c.image * c.image : 2; }
}  // namespace

size_t PlanExecutor::bytes_for(const ModelPlan& p) {
  const size_t R = static_cast<size_t>(p.max_rows);
  return sizeof(float) * (2 * p.num_params + 2 * p.num_acts + p.num_att + sample_floats(p.cfg) * R + R + 2 * p.num_bufs) +
         sizeof(int) * (3 * R + static_cast<size_t>(p.vocab) + 1);
}

PlanExecutor::PlanExecutor(ModelOps& ops, const ModelConfig& cfg, int vocab, int max_rows)
    : ops_(ops), plan_(make_plan(cfg, vocab, max_rows)), norm_(cfg.norm), sample_dim_(sample_floats(cfg)) {
  const size_t R = static_cast<size_t>(max_rows);
  const bool host = ops_.host_memory();  // the batch is read where it is: no batch buffers
  auto falloc = [&](size_t n) {
    bytes_ += sizeof(float) * n;
    return static_cast<float*>(ops_.alloc(sizeof(float) * std::max<size_t>(n, 1)));
  };
  auto ialloc = [&](size_t n) {
    bytes_ += sizeof(int) * n;
    return static_cast<int*>(ops_.alloc(sizeof(int) * std::max<size_t>(n, 1)));
  };
  try {
    params_ = falloc(plan_.num_params);
    grads_ = falloc(plan_.num_params);
    acts_ = falloc(plan_.num_acts);
    dacts_ = falloc(plan_.num_acts);
    att_ = falloc(plan_.num_att);
    bufs_ = falloc(plan_.num_bufs);
    bufs_saved_ = falloc(plan_.num_bufs);
    losses_ = falloc(R);
    if (!host) {
      points_ = falloc(static_cast<size_t>(sample_dim_) * R);
      tokens_ = ialloc(R);
      targets_ = ialloc(R);
      bucket_rows_ = ialloc(R);
      bucket_start_ = ialloc(static_cast<size_t>(vocab) + 1);
    }
  } catch (...) {
    free_all();
    throw;
  }
  ops_.zero(params_, sizeof(float) * plan_.num_params);
  ops_.zero(grads_, sizeof(float) * plan_.num_params);
  ops_.zero(acts_, sizeof(float) * plan_.num_acts);
  ops_.zero(dacts_, sizeof(float) * plan_.num_acts);  // a backward clears only the rows it uses (CpuOps)
  ops_.zero(att_, sizeof(float) * std::max<size_t>(plan_.num_att, 1));
  ops_.zero(bufs_, sizeof(float) * std::max<size_t>(plan_.num_bufs, 1));
  ops_.zero(bufs_saved_, sizeof(float) * std::max<size_t>(plan_.num_bufs, 1));
  if (!host) {
    host_rows_.assign(R, 0);
    host_start_.assign(static_cast<size_t>(vocab) + 1, 0);
  }
  ops_.reserve(plan_, max_rows);
}

PlanExecutor::~PlanExecutor() { free_all(); }

void PlanExecutor::free_all() {
  for (void* p : {static_cast<void*>(params_), static_cast<void*>(grads_), static_cast<void*>(acts_),
                  static_cast<void*>(dacts_), static_cast<void*>(att_), static_cast<void*>(points_),
                  static_cast<void*>(losses_), static_cast<void*>(tokens_), static_cast<void*>(targets_),
                  static_cast<void*>(bucket_rows_), static_cast<void*>(bucket_start_), static_cast<void*>(bufs_),
                  static_cast<void*>(bufs_saved_)})
    if (p) ops_.release(p);
  params_ = grads_ = acts_ = dacts_ = att_ = points_ = losses_ = bufs_ = bufs_saved_ = nullptr;
  tokens_ = targets_ = bucket_rows_ = bucket_start_ = nullptr;
}

void PlanExecutor::set_batch(const float* points, const int* tokens, const int* targets, int B, int T, bool buckets) {
  const bool gpt = plan_.cfg.kind == ModelKind::Gpt;
  if (B < 1 || T < 1 || static_cast<long>(B) * T > plan_.max_rows)
    throw Error("model: batch of " + std::to_string(B) + "x" + std::to_string(T) + " rows exceeds the capacity of " +
                std::to_string(plan_.max_rows));
  if (gpt && T > plan_.cfg.context)
    throw Error("model: sequence length " + std::to_string(T) + " exceeds model.context = " +
                std::to_string(plan_.cfg.context));
  if (!gpt && T != 1) throw Error(std::string("model: ") + to_string(plan_.cfg.kind) + " takes T = 1");
  const int N = B * T;
  B_ = B;
  T_ = T;
  has_targets_ = targets != nullptr;
  const bool host = ops_.host_memory();
  in_points_ = host ? points : points_;
  in_tokens_ = host ? tokens : tokens_;
  in_targets_ = targets == nullptr ? nullptr : host ? targets : targets_;
  if (gpt) {
    for (int i = 0; i < N; ++i)
      if (tokens[i] < 0 || tokens[i] >= plan_.vocab)
        throw Error("model: token id " + std::to_string(tokens[i]) + " out of range");
    if (!host) ops_.upload(tokens_, tokens, sizeof(int) * N);
    if (buckets && !host) {  // (the host ops' embedding backward needs no token groups)
      make_token_buckets(tokens, N, plan_.vocab, host_rows_.data(), host_start_.data());
      ops_.upload(bucket_rows_, host_rows_.data(), sizeof(int) * N);
      ops_.upload(bucket_start_, host_start_.data(), sizeof(int) * (plan_.vocab + 1));
    }
  } else if (!host) {
    ops_.upload(points_, points, sizeof(float) * sample_dim_ * N);
  }
  if (targets) {
    for (int i = 0; i < N; ++i)
      if (targets[i] < 0 || targets[i] >= plan_.vocab)
        throw Error("model: target " + std::to_string(targets[i]) + " out of range");
    if (!host) ops_.upload(targets_, targets, sizeof(int) * N);
  }
}

float PlanExecutor::alpha(const SubPlan&) const {
  return plan_.cfg.residual == Residual::DeepNorm ? plan_.deepnorm_alpha() : 1.0f;
}

const float* PlanExecutor::gate(const SubPlan& s) { return s.rz != kNoOffset ? params_ + s.rz : nullptr; }

void PlanExecutor::branch_forward(const SubPlan& s, int N) {
  const int C = plan_.cfg.width;
  const size_t n = static_cast<size_t>(N) * C;
  switch (s.branch) {
    case Branch::Act:
      ops_.linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, C);
      ops_.activation_forward(A(s.f), A(s.u), n, plan_.cfg.activation);
      break;
    case Branch::Attn:
      ops_.linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, 3 * C);
      ops_.attention_forward(A(s.v), att_ + s.att, A(s.u), B_, T_, C, plan_.cfg.heads);
      ops_.linear_forward(A(s.f), A(s.v), P(s.w2), P(s.b2), N, C, C);
      break;
    case Branch::Ffn:
      ops_.linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, 4 * C);
      ops_.activation_forward(A(s.v), A(s.u), 4 * n, Activation::Gelu);
      ops_.linear_forward(A(s.f), A(s.v), P(s.w2), P(s.b2), N, 4 * C, C);
      break;
  }
}

void PlanExecutor::forward(double* loss) {
  if (B_ < 1) throw Error("model: forward before set_batch");
  if (loss && !has_targets_) throw Error("model: a loss needs targets");
  const ModelPlan& p = plan_;
  if (p.cfg.kind == ModelKind::Cnn) {
    cnn_forward();
    ops_.cross_entropy_forward(A(p.probs), losses_, A(p.logits), in_targets_, B_, p.vocab);
    if (loss) ops_.mean_loss(loss, losses_, B_);
    return;
  }
  const bool bn = norm_ == NormKind::BatchNorm;
  const bool gpt = p.cfg.kind == ModelKind::Gpt;
  const int N = B_ * T_, C = p.cfg.width, V = p.vocab;
  const size_t n = static_cast<size_t>(N) * C;
  const float eps = static_cast<float>(p.cfg.eps);
  const Residual res = p.cfg.residual;
  if (gpt)
    ops_.embedding_forward(A(p.x0), in_tokens_, P(p.wte), P(p.wpe), B_, T_, C);
  else
    ops_.linear_forward(A(p.x0), in_points_, P(p.stem_w), P(p.stem_b), N, 2, C);
  const size_t count = p.subs.size();
  for (size_t i = 0; i < count; ++i) {
    const SubPlan& s = p.subs[i];
    // A norm_in after the first sublayer was computed by the previous sublayer's fused residual.
    if (s.nin_w != kNoOffset && i == 0) nfwd(s.h, s.h_m, s.h_r, A(s.x), s.nin_w, s.nin_b, s.nin_buf, N, C);
    branch_forward(s, N);
    size_t fo = s.f;
    if (p.sandwich_out(s)) {
      nfwd(s.g, s.g_m, s.g_r, A(s.f), s.nout_w, s.nout_b, s.nout_buf, N, C);
      fo = s.g;
    }
    const SubPlan* next = i + 1 < count ? &p.subs[i + 1] : nullptr;
    if (bn && (p.post_out(s) || (next && next->nin_w != kNoOffset) || (!next && p.nf_w != kNoOffset))) {
      // BatchNorm: the residual, then the norm it feeds (no fused kernel: its statistics span the batch).
      const size_t y = p.post_out(s) ? s.z : s.y;
      ops_.residual_forward(A(y), A(s.x), A(fo), n, res, alpha(s), gate(s));
      if (p.post_out(s))
        nfwd(s.y, s.z_m, s.z_r, A(s.z), s.nout_w, s.nout_b, s.nout_buf, N, C);
      else if (next)
        nfwd(next->h, next->h_m, next->h_r, A(s.y), next->nin_w, next->nin_b, next->nin_buf, N, C);
      else
        nfwd(p.hf, p.hf_m, p.hf_r, A(s.y), p.nf_w, p.nf_b, p.nf_buf, N, C);
    } else if (p.post_out(s)) {
      ops_.residual_norm_forward(norm_, A(s.z), A(s.y), A(s.z_m), A(s.z_r), A(s.x), A(fo), P(s.nout_w), Pn(s.nout_b),
                                 N, C, eps, res, alpha(s), gate(s));
    } else if (next && next->nin_w != kNoOffset) {
      ops_.residual_norm_forward(norm_, A(s.y), A(next->h), A(next->h_m), A(next->h_r), A(s.x), A(fo),
                                 P(next->nin_w), Pn(next->nin_b), N, C, eps, res, alpha(s), gate(s));
    } else if (!next && p.nf_w != kNoOffset) {
      ops_.residual_norm_forward(norm_, A(s.y), A(p.hf), A(p.hf_m), A(p.hf_r), A(s.x), A(fo), P(p.nf_w), Pn(p.nf_b),
                                 N, C, eps, res, alpha(s), gate(s));
    } else {
      ops_.residual_forward(A(s.y), A(s.x), A(fo), n, res, alpha(s), gate(s));
    }
  }
  ops_.linear_forward(A(p.logits), A(p.hf), P(p.head_w), Pn(p.head_b), N, C, V);
  ops_.cross_entropy_forward(A(p.probs), losses_, A(p.logits), in_targets_, N, V);
  if (loss) ops_.mean_loss(loss, losses_, N);
}

void PlanExecutor::branch_backward(const SubPlan& s, int N) {
  const int C = plan_.cfg.width;
  const size_t n = static_cast<size_t>(N) * C;
  switch (s.branch) {
    case Branch::Act:
      ops_.activation_backward(D(s.u), D(s.f), A(s.u), n, plan_.cfg.activation);
      ops_.linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, C);
      break;
    case Branch::Attn:
      ops_.linear_backward(D(s.v), G(s.w2), G(s.b2), D(s.f), A(s.v), P(s.w2), N, C, C);
      ops_.attention_backward(D(s.u), D(s.v), A(s.u), att_ + s.att, B_, T_, C, plan_.cfg.heads);
      ops_.linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, 3 * C);
      break;
    case Branch::Ffn:
      ops_.linear_backward(D(s.v), G(s.w2), G(s.b2), D(s.f), A(s.v), P(s.w2), N, 4 * C, C);
      ops_.activation_backward(D(s.u), D(s.v), A(s.u), 4 * n, Activation::Gelu);
      ops_.linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, 4 * C);
      break;
  }
}

void PlanExecutor::backward() {
  if (!has_targets_) throw Error("model: backward needs a forward with targets");
  const ModelPlan& p = plan_;
  const int N = B_ * T_, C = p.cfg.width, V = p.vocab;
  const size_t n = static_cast<size_t>(N) * C;
  const Residual res = p.cfg.residual;
  ops_.zero_act_grads(dacts_, p, N);
  if (p.cfg.kind == ModelKind::Cnn) {
    ops_.cross_entropy_backward(D(p.logits), A(p.probs), in_targets_, B_, V);
    cnn_backward();
    return;
  }
  const bool bn = norm_ == NormKind::BatchNorm;
  ops_.cross_entropy_backward(D(p.logits), A(p.probs), in_targets_, N, V);
  ops_.linear_backward(D(p.hf), G(p.head_w), Gn(p.head_b), D(p.logits), A(p.hf), P(p.head_w), N, C, V);

  // A norm whose backward waits to be fused with the residual backward of the sublayer before it.
  struct Pending {
    bool active = false, dres = false;
    size_t in = 0, dnorm = 0, w = kNoOffset, b = kNoOffset, mean = 0, rstd = 0;
  } pend;
  if (p.nf_w != kNoOffset)  // the final norm: nothing else feeds the last stream's gradient, so no dres
    pend = {true, false, p.subs.back().y, p.hf, p.nf_w, p.nf_b, p.hf_m, p.hf_r};

  for (auto it = p.subs.rbegin(); it != p.subs.rend(); ++it) {
    const SubPlan& s = *it;
    const size_t fo = p.sandwich_out(s) ? s.g : s.f;
    if (bn && (p.post_out(s) || pend.active)) {
      // BatchNorm: its backward adds into the stream's gradient at its input (which already holds
      // dres, or is zero), then the residual backward reads that gradient.
      const size_t in = p.post_out(s) ? s.z : pend.in;
      if (p.post_out(s))
        nbwd(D(s.z), s.nout_w, s.nout_b, s.y, A(s.z), s.z_m, s.z_r, N, C);
      else
        nbwd(D(pend.in), pend.w, pend.b, pend.dnorm, A(pend.in), pend.mean, pend.rstd, N, C);
      ops_.residual_backward(D(s.x), D(fo), Gn(s.rz), D(in), A(fo), n, res, alpha(s), gate(s));
    } else if (p.post_out(s)) {
      if (pend.active) throw Error("model: internal error, a post-norm sublayer followed by a pending norm");
      ops_.residual_norm_backward(norm_, D(s.x), D(fo), Gn(s.rz), G(s.nout_w), Gn(s.nout_b), nullptr, D(s.y), A(s.z),
                                  P(s.nout_w), A(s.z_m), A(s.z_r), A(fo), N, C, res, alpha(s), gate(s));
    } else if (pend.active) {
      ops_.residual_norm_backward(norm_, D(s.x), D(fo), Gn(s.rz), G(pend.w), Gn(pend.b), pend.dres ? D(s.y) : nullptr,
                                  D(pend.dnorm), A(pend.in), P(pend.w), A(pend.mean), A(pend.rstd), A(fo), N, C, res,
                                  alpha(s), gate(s));
    } else {
      ops_.residual_backward(D(s.x), D(fo), Gn(s.rz), D(s.y), A(fo), n, res, alpha(s), gate(s));
    }
    pend.active = false;
    if (p.sandwich_out(s))
      nbwd(D(s.f), s.nout_w, s.nout_b, s.g, A(s.f), s.g_m, s.g_r, N, C);
    branch_backward(s, N);
    if (s.nin_w != kNoOffset) pend = {true, true, s.x, s.h, s.nin_w, s.nin_b, s.h_m, s.h_r};
  }
  if (pend.active)  // the first sublayer's norm_in: its input is the embedding / stem output
    nbwd(D(pend.in), pend.w, pend.b, pend.dnorm, A(pend.in), pend.mean, pend.rstd, N, C);
  if (p.cfg.kind == ModelKind::Gpt)
    ops_.embedding_backward(G(p.wte), G(p.wpe), D(p.x0), in_tokens_, bucket_rows_, bucket_start_, B_, T_, C, V);
  else
    ops_.linear_backward(nullptr, G(p.stem_w), G(p.stem_b), D(p.x0), in_points_, P(p.stem_w), N, 2, C);
}

void PlanExecutor::nfwd(size_t out, size_t mean, size_t rstd, const float* in, size_t w, size_t b, size_t buf, int N,
                        int C) {
  const float eps = static_cast<float>(plan_.cfg.eps);
  if (norm_ == NormKind::BatchNorm)
    ops_.batchnorm_forward(A(out), A(mean), A(rstd), bufs_ + buf, in, P(w), P(b), N, C, eps, training_);
  else
    ops_.norm_forward(norm_, A(out), A(mean), A(rstd), in, P(w), Pn(b), N, C, eps);
}

void PlanExecutor::nbwd(float* din, size_t w, size_t b, size_t dout, const float* in, size_t mean, size_t rstd, int N,
                        int C) {
  if (norm_ == NormKind::BatchNorm)
    ops_.batchnorm_backward(din, G(w), G(b), D(dout), in, P(w), A(mean), A(rstd), N, C);
  else
    ops_.norm_backward(norm_, din, G(w), Gn(b), D(dout), in, P(w), A(mean), A(rstd), N, C);
}

// ---- cnn: the plan's op list (ModelPlan::cnn_ops, built in plan.cpp), forward in order and
// backward reversed, then global average pooling and the head.

const float* PlanExecutor::cnn_in(const CnnOp& o) { return o.in == kNoOffset ? in_points_ : A(o.in); }

void PlanExecutor::cnn_forward() {
  const ModelPlan& p = plan_;
  const Activation act = p.cfg.activation;
  for (const CnnOp& o : p.cnn_ops) {
    const int n = B_ * o.per_sample;
    switch (o.kind) {
      case CnnOpKind::Conv: {
        const ConvSite& c = o.conv;
        ops_.conv2d_forward(A(o.out), cnn_in(o), P(c.w), B_, c.hin, c.ic, c.oc, c.k, c.s, c.p);
        break;
      }
      case CnnOpKind::Norm:
        nfwd(o.out, o.norm.mean, o.norm.rstd, A(o.in), o.norm.w, o.norm.b, o.norm.buf, n, o.norm.C);
        break;
      case CnnOpKind::Act: ops_.activation_forward(A(o.out), A(o.in), static_cast<size_t>(n), act); break;
      case CnnOpKind::Residual:
        ops_.residual_forward(A(o.out), A(o.skip), A(o.in), static_cast<size_t>(n), p.cfg.residual, 1.0f, Pn(o.rz));
        break;
    }
  }
  const CnnBlock& last = p.cnn.back();
  const int HW = last.hout * last.hout, C = last.cout;
  ops_.global_avgpool_forward(A(p.pooled), A(p.fa), B_, HW, C);
  ops_.linear_forward(A(p.logits), A(p.pooled), P(p.head_w), P(p.head_b), B_, C, p.vocab);
}

void PlanExecutor::cnn_backward() {
  const ModelPlan& p = plan_;
  const Activation act = p.cfg.activation;
  const CnnBlock& last = p.cnn.back();
  const int HW = last.hout * last.hout, C = last.cout;
  ops_.linear_backward(D(p.pooled), G(p.head_w), G(p.head_b), D(p.logits), A(p.pooled), P(p.head_w), B_, C, p.vocab);
  ops_.global_avgpool_backward(D(p.fa), D(p.pooled), B_, HW, C);
  for (auto it = p.cnn_ops.rbegin(); it != p.cnn_ops.rend(); ++it) {
    const CnnOp& o = *it;
    const int n = B_ * o.per_sample;
    switch (o.kind) {
      case CnnOpKind::Conv: {
        const ConvSite& c = o.conv;
        float* din = o.in == kNoOffset ? nullptr : D(o.in);  // no gradient for the images
        ops_.conv2d_backward(din, G(c.w), D(o.out), cnn_in(o), P(c.w), B_, c.hin, c.ic, c.oc, c.k, c.s, c.p);
        break;
      }
      case CnnOpKind::Norm:
        nbwd(D(o.in), o.norm.w, o.norm.b, o.out, A(o.in), o.norm.mean, o.norm.rstd, n, o.norm.C);
        break;
      case CnnOpKind::Act: ops_.activation_backward(D(o.in), D(o.out), A(o.in), static_cast<size_t>(n), act); break;
      case CnnOpKind::Residual:
        ops_.residual_backward(D(o.skip), D(o.in), Gn(o.rz), D(o.out), A(o.in), static_cast<size_t>(n), p.cfg.residual,
                               1.0f, Pn(o.rz));
        break;
    }
  }
}

}  // namespace resnorm

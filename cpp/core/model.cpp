// The model's layout, initialisation, forward and backward. Forward is a flat list of op calls;
// backward walks the same list in reverse. Every sublayer (the MLP block's Linear+activation, the
// transformer's attention and MLP) is wrapped by the same residual/norm/placement routine:
//   pre:      y = R(x, F(Norm(x)))          (Xiong et al. 2020; final norm before the head)
//   post:     y = Norm(R(x, F(x)))          (Vaswani et al. 2017)
//   sandwich: y = R(x, Norm(F(Norm(x))))    (Ding et al. 2021, CogView)
// with R(x, f) = f | x + f | x + a*f (ReZero) | alpha*x + f (DeepNorm).
#include "model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.h"
#include "ops/ops.h"
#include "rng.h"
#include "sum_squares.h"

namespace resnorm {

namespace {
bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}
}  // namespace

Model::Model(const ModelConfig& cfg, int vocab, int max_rows) : plan_(make_plan(cfg, vocab, max_rows)) {
  params_.assign(plan_.num_params, 0.0f);
  grads_.assign(plan_.num_params, 0.0f);
  acts_.assign(plan_.num_acts, 0.0f);
  dacts_.assign(plan_.num_acts, 0.0f);
  att_.assign(plan_.num_att, 0.0f);
  if (cfg.kind == ModelKind::Gpt) scratch_.assign(static_cast<size_t>(cfg.context) * cfg.context, 0.0f);
}

namespace {

// Lays out parameters and activations in order; see ModelPlan.
struct PlanBuilder {
  ModelPlan& p;
  size_t param(const std::string& name, std::vector<int> shape, int block, bool decay) {
    Slice s;
    s.name = name;
    s.offset = p.num_params;
    s.size = 1;
    for (int d : shape) s.size *= static_cast<size_t>(d);
    s.shape = std::move(shape);
    s.block = block;
    s.decay = decay;
    p.num_params += s.size;
    p.slices.push_back(std::move(s));
    return p.slices.back().offset;
  }
  size_t act(size_t per_row) {
    const size_t o = p.num_acts;
    p.num_acts += per_row * static_cast<size_t>(p.max_rows);
    p.act_buffers.emplace_back(o, per_row);
    return o;
  }
  void norm(const std::string& prefix, int block, size_t& w, size_t& b) {
    w = param(prefix + ".weight", {p.cfg.width}, block, false);
    b = p.cfg.norm == NormKind::LayerNorm ? param(prefix + ".bias", {p.cfg.width}, block, false) : kNoOffset;
  }
};

}  // namespace

float ModelPlan::deepnorm_alpha() const { return static_cast<float>(std::pow(2.0 * cfg.depth, 0.25)); }

const SubPlan& ModelPlan::last_of_block(int block) const {
  const size_t per = cfg.kind == ModelKind::Gpt ? 2 : 1;
  return subs[(static_cast<size_t>(block) + 1) * per - 1];
}

ModelPlan make_plan(const ModelConfig& cfg, int vocab, int max_rows) {
  if (vocab < 2) throw Error("model: vocabulary/classes must be at least 2, got " + std::to_string(vocab));
  if (max_rows < 1) throw Error("model: capacity must be at least one row");
  ModelPlan p;
  p.cfg = cfg;
  p.vocab = vocab;
  p.max_rows = max_rows;
  PlanBuilder pb{p};
  const ModelConfig& cfg_ = p.cfg;
  const int C = cfg_.width, V = vocab;
  const bool gpt = cfg_.kind == ModelKind::Gpt;
  const bool has_norm = cfg_.norm != NormKind::None;
  const bool norm_in = has_norm && cfg_.placement != Placement::Post;
  const bool norm_out = has_norm && cfg_.placement != Placement::Pre;

  p.x0 = pb.act(C);  // [N,C] stem / embedding output: the residual stream's start
  if (gpt) {
    p.wte = pb.param("wte.weight", {V, C}, -1, true);
    p.wpe = pb.param("wpe.weight", {cfg_.context, C}, -1, true);
  } else {
    p.stem_w = pb.param("stem.weight", {C, 2}, -1, true);
    p.stem_b = pb.param("stem.bias", {C}, -1, false);
  }
  size_t prev = p.x0;
  for (int i = 0; i < cfg_.depth; ++i) {
    const Branch branches_gpt[] = {Branch::Attn, Branch::Ffn};
    const int nb = gpt ? 2 : 1;
    for (int k = 0; k < nb; ++k) {
      SubPlan s;
      s.branch = gpt ? branches_gpt[k] : Branch::Act;
      s.block = i;
      s.layer = i;
      s.x = prev;
      const std::string name = "blocks." + std::to_string(i) + (s.branch == Branch::Attn ? ".attn" : ".mlp");
      if (norm_in) {
        pb.norm(name + ".norm_in", i, s.nin_w, s.nin_b);
        s.h = pb.act(C);    // [N,C] normalised input of the branch
        s.h_m = pb.act(1);  // [N] mean (LayerNorm)
        s.h_r = pb.act(1);  // [N] 1/std
      } else {
        s.h = s.x;
      }
      switch (s.branch) {
        case Branch::Act:
          s.w1 = pb.param(name + ".fc.weight", {C, C}, i, true);
          s.b1 = pb.param(name + ".fc.bias", {C}, i, false);
          s.u = pb.act(C);  // [N,C] pre-activation
          break;
        case Branch::Attn:
          s.w1 = pb.param(name + ".qkv.weight", {3 * C, C}, i, true);
          s.b1 = pb.param(name + ".qkv.bias", {3 * C}, i, false);
          s.w2 = pb.param(name + ".proj.weight", {C, C}, i, true);
          s.b2 = pb.param(name + ".proj.bias", {C}, i, false);
          s.u = pb.act(3 * C);  // [N,3C] qkv
          s.v = pb.act(C);      // [N,C] attention output before the projection
          s.att = p.num_att;      // [B,H,T,T] probabilities
          p.num_att += static_cast<size_t>(max_rows) * cfg_.heads * cfg_.context;
          break;
        case Branch::Ffn:
          s.w1 = pb.param(name + ".fc.weight", {4 * C, C}, i, true);
          s.b1 = pb.param(name + ".fc.bias", {4 * C}, i, false);
          s.w2 = pb.param(name + ".proj.weight", {C, 4 * C}, i, true);
          s.b2 = pb.param(name + ".proj.bias", {C}, i, false);
          s.u = pb.act(4 * C);  // [N,4C] pre-GELU
          s.v = pb.act(4 * C);  // [N,4C] post-GELU
          break;
      }
      s.f = pb.act(C);  // [N,C] branch output F(.)
      if (norm_out) {
        pb.norm(name + ".norm_out", i, s.nout_w, s.nout_b);
        if (cfg_.placement == Placement::Sandwich) {
          s.g = pb.act(C);  // [N,C] Norm(F(.))
          s.g_m = pb.act(1);
          s.g_r = pb.act(1);
        } else {
          s.z = pb.act(C);  // [N,C] R(x, F(x)) before the post-norm
          s.z_m = pb.act(1);
          s.z_r = pb.act(1);
        }
      }
      if (cfg_.residual == Residual::ReZero) s.rz = pb.param(name + ".rezero", {1}, i, false);
      s.y = pb.act(C);  // [N,C] residual stream after this sublayer
      prev = s.y;
      p.subs.push_back(s);
    }
  }
  if (has_norm && cfg_.placement != Placement::Post) {
    pb.norm("norm_f", -1, p.nf_w, p.nf_b);
    p.hf = pb.act(C);
    p.hf_m = pb.act(1);
    p.hf_r = pb.act(1);
  } else {
    p.hf = prev;
  }
  if (gpt) {
    p.head_w = pb.param("lm_head.weight", {V, C}, -1, true);
  } else {
    p.head_w = pb.param("head.weight", {V, C}, -1, true);
    p.head_b = pb.param("head.bias", {V}, -1, false);
  }
  p.logits = pb.act(V);  // [N,V]
  p.probs = pb.act(V);   // [N,V]
  return p;
}

size_t plan_bytes(const ModelPlan& p) {
  const size_t scratch = p.cfg.kind == ModelKind::Gpt ? static_cast<size_t>(p.cfg.context) * p.cfg.context : 0;
  return sizeof(float) * (2 * p.num_params + 2 * p.num_acts + p.num_att + scratch);
}

const Slice* Model::find(const std::string& name) const {
  for (const auto& s : plan_.slices)
    if (s.name == name) return &s;
  return nullptr;
}

// Initialisation, PyTorch's default scales: nn.Linear weights and biases U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)); nn.Embedding N(0, 1); norm gains 1 and biases 0; ReZero gates 0 (Bachlechner
// et al. 2020). DeepNorm (Wang et al. 2022, decoder-only) scales the branch weights by
// beta = (8N)^(-1/4): the MLP block's fc; the transformer's value part of qkv, attention proj,
// MLP fc and proj.
void Model::init(uint32_t seed) {
  Rng rng(seed, /*stream=*/0x1417);
  const bool deepnorm = plan_.cfg.residual == Residual::DeepNorm;
  const bool gpt = plan_.cfg.kind == ModelKind::Gpt;
  const auto beta = static_cast<float>(std::pow(8.0 * plan_.cfg.depth, -0.25));
  int fan_in = 1;
  for (const Slice& s : plan_.slices) {
    float* p = params_.data() + s.offset;
    const bool is_norm = s.name.find("norm_") != std::string::npos;  // norm_in, norm_out, norm_f
    if (is_norm) { std::fill(p, p + s.size, ends_with(s.name, ".weight") ? 1.0f : 0.0f); continue; }
    if (ends_with(s.name, ".rezero")) { std::fill(p, p + s.size, 0.0f); continue; }
    if (s.name == "wte.weight" || s.name == "wpe.weight") {
      for (size_t i = 0; i < s.size; ++i) p[i] = rng.normal();
      continue;
    }
    if (!ends_with(s.name, ".bias")) fan_in = s.shape[1];  // a bias follows its weight
    const float k = 1.0f / std::sqrt(static_cast<float>(fan_in));
    for (size_t i = 0; i < s.size; ++i) p[i] = rng.uniform(-k, k);
    if (!deepnorm) continue;
    if (ends_with(s.name, "mlp.fc.weight") || (gpt && ends_with(s.name, ".proj.weight")))
      for (size_t i = 0; i < s.size; ++i) p[i] *= beta;
    if (ends_with(s.name, "attn.qkv.weight"))  // rows 2C..3C hold the value projection
      for (size_t i = 2 * s.size / 3; i < s.size; ++i) p[i] *= beta;
  }
  zero_grad();
}

void Model::zero_grad() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

void Model::norm_forward(size_t out, size_t mean, size_t rstd, size_t in, size_t w, size_t b, int N) {
  const float eps = static_cast<float>(plan_.cfg.eps);
  if (plan_.cfg.norm == NormKind::LayerNorm)
    layernorm_forward(A(out), A(mean), A(rstd), A(in), P(w), P(b), N, plan_.cfg.width, eps);
  else
    rmsnorm_forward(A(out), A(rstd), A(in), P(w), N, plan_.cfg.width, eps);
}

void Model::norm_backward(size_t din, size_t dout, size_t in, size_t w, size_t b, size_t mean, size_t rstd, int N) {
  if (plan_.cfg.norm == NormKind::LayerNorm)
    layernorm_backward(D(din), G(w), G(b), D(dout), A(in), P(w), A(mean), A(rstd), N, plan_.cfg.width);
  else
    rmsnorm_backward(D(din), G(w), D(dout), A(in), P(w), A(rstd), N, plan_.cfg.width);
}

float Model::residual_scale(const SubPlan& s) const {
  if (plan_.cfg.residual == Residual::ReZero) return params_[s.rz];
  if (plan_.cfg.residual == Residual::DeepNorm) return plan_.deepnorm_alpha();
  return 1.0f;
}

void Model::sub_forward(const SubPlan& s, int N) {
  const int C = plan_.cfg.width;
  const size_t n = static_cast<size_t>(N) * C;
  if (s.nin_w != kNoOffset) norm_forward(s.h, s.h_m, s.h_r, s.x, s.nin_w, s.nin_b, N);
  switch (s.branch) {
    case Branch::Act:
      linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, C);
      activation_forward(A(s.f), A(s.u), n, plan_.cfg.activation);
      break;
    case Branch::Attn:
      linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, 3 * C);
      attention_forward(A(s.v), att_.data() + s.att, A(s.u), B_, T_, C, plan_.cfg.heads);
      linear_forward(A(s.f), A(s.v), P(s.w2), P(s.b2), N, C, C);
      break;
    case Branch::Ffn:
      linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, 4 * C);
      activation_forward(A(s.v), A(s.u), 4 * n, Activation::Gelu);
      linear_forward(A(s.f), A(s.v), P(s.w2), P(s.b2), N, 4 * C, C);
      break;
  }
  const bool sandwich = plan_.sandwich_out(s);
  const bool post = plan_.post_out(s);
  size_t fo = s.f;
  if (sandwich) {
    norm_forward(s.g, s.g_m, s.g_r, s.f, s.nout_w, s.nout_b, N);
    fo = s.g;
  }
  const float a = residual_scale(s);
  if (post) {
    residual_forward(A(s.z), A(s.x), A(fo), n, plan_.cfg.residual, a);
    norm_forward(s.y, s.z_m, s.z_r, s.z, s.nout_w, s.nout_b, N);
  } else {
    residual_forward(A(s.y), A(s.x), A(fo), n, plan_.cfg.residual, a);
  }
}

void Model::sub_backward(const SubPlan& s, int N) {
  const int C = plan_.cfg.width;
  const size_t n = static_cast<size_t>(N) * C;
  const bool sandwich = plan_.sandwich_out(s);
  const bool post = plan_.post_out(s);
  const size_t fo = sandwich ? s.g : s.f;
  size_t dsum = s.y;
  if (post) {
    norm_backward(s.z, s.y, s.z, s.nout_w, s.nout_b, s.z_m, s.z_r, N);
    dsum = s.z;
  }
  residual_backward(D(s.x), D(fo), s.rz != kNoOffset ? G(s.rz) : nullptr, D(dsum), A(fo), n, plan_.cfg.residual,
                    residual_scale(s));
  if (sandwich) norm_backward(s.f, s.g, s.f, s.nout_w, s.nout_b, s.g_m, s.g_r, N);
  switch (s.branch) {
    case Branch::Act:
      activation_backward(D(s.u), D(s.f), A(s.u), n, plan_.cfg.activation);
      linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, C);
      break;
    case Branch::Attn:
      linear_backward(D(s.v), G(s.w2), G(s.b2), D(s.f), A(s.v), P(s.w2), N, C, C);
      attention_backward(D(s.u), scratch_.data(), D(s.v), A(s.u), att_.data() + s.att, B_, T_, C, plan_.cfg.heads);
      linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, 3 * C);
      break;
    case Branch::Ffn:
      linear_backward(D(s.v), G(s.w2), G(s.b2), D(s.f), A(s.v), P(s.w2), N, 4 * C, C);
      activation_backward(D(s.u), D(s.v), A(s.u), 4 * n, Activation::Gelu);
      linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, 4 * C);
      break;
  }
  if (s.nin_w != kNoOffset) norm_backward(s.x, s.h, s.x, s.nin_w, s.nin_b, s.h_m, s.h_r, N);
}

double Model::forward(const float* points, const int* tokens, const int* targets, int B, int T) {
  const bool gpt = plan_.cfg.kind == ModelKind::Gpt;
  if (B < 1 || T < 1 || static_cast<long>(B) * T > plan_.max_rows)
    throw Error("model: batch of " + std::to_string(B) + "x" + std::to_string(T) + " rows exceeds the capacity of " +
                std::to_string(plan_.max_rows));
  if (gpt && T > plan_.cfg.context)
    throw Error("model: sequence length " + std::to_string(T) + " exceeds model.context = " + std::to_string(plan_.cfg.context));
  if (!gpt && T != 1) throw Error("model: mlp takes T = 1");
  B_ = B;
  T_ = T;
  points_ = points;
  tokens_ = tokens;
  targets_ = targets;
  const int N = B * T, C = plan_.cfg.width, V = plan_.vocab;
  if (gpt) {
    for (int i = 0; i < N; ++i)
      if (tokens[i] < 0 || tokens[i] >= V) throw Error("model: token id " + std::to_string(tokens[i]) + " out of range");
    embedding_forward(A(plan_.x0), tokens, P(plan_.wte), P(plan_.wpe), B, T, C);
  } else {
    linear_forward(A(plan_.x0), points, P(plan_.stem_w), P(plan_.stem_b), N, 2, C);
  }
  for (const SubPlan& s : plan_.subs) sub_forward(s, N);
  if (plan_.nf_w != kNoOffset) norm_forward(plan_.hf, plan_.hf_m, plan_.hf_r, plan_.subs.back().y, plan_.nf_w, plan_.nf_b, N);
  linear_forward(A(plan_.logits), A(plan_.hf), P(plan_.head_w), plan_.head_b == kNoOffset ? nullptr : P(plan_.head_b), N, C, V);
  return cross_entropy_forward(A(plan_.probs), A(plan_.logits), targets, N, V);
}

void Model::backward() {
  if (!targets_) throw Error("model: backward needs a forward with targets");
  const int N = B_ * T_, C = plan_.cfg.width, V = plan_.vocab;
  for (const auto& [offset, per_row] : plan_.act_buffers)  // only the N rows this batch uses
    std::fill_n(dacts_.data() + offset, static_cast<size_t>(N) * per_row, 0.0f);
  cross_entropy_backward(D(plan_.logits), A(plan_.probs), targets_, N, V);
  linear_backward(D(plan_.hf), G(plan_.head_w), plan_.head_b == kNoOffset ? nullptr : G(plan_.head_b), D(plan_.logits), A(plan_.hf), P(plan_.head_w), N, C, V);
  if (plan_.nf_w != kNoOffset) norm_backward(plan_.subs.back().y, plan_.hf, plan_.subs.back().y, plan_.nf_w, plan_.nf_b, plan_.hf_m, plan_.hf_r, N);
  for (auto it = plan_.subs.rbegin(); it != plan_.subs.rend(); ++it) sub_backward(*it, N);
  if (plan_.cfg.kind == ModelKind::Gpt)
    embedding_backward(G(plan_.wte), G(plan_.wpe), D(plan_.x0), tokens_, B_, T_, C);
  else
    linear_backward(nullptr, G(plan_.stem_w), G(plan_.stem_b), D(plan_.x0), points_, P(plan_.stem_w), N, 2, C);
}

const float* Model::probs() const { return acts_.data() + plan_.probs; }
const float* Model::logits() const { return acts_.data() + plan_.logits; }

const float* Model::attention(int layer) const {
  if (plan_.cfg.kind != ModelKind::Gpt || layer < 0 || layer >= plan_.cfg.depth)
    throw Error("model: attention layer " + std::to_string(layer) + " out of range (0.." +
                std::to_string(plan_.cfg.depth - 1) + ")");
  return att_.data() + plan_.subs[static_cast<size_t>(layer) * 2].att;
}

float Model::block_rms(int block) const {
  const float* y = acts_.data() + plan_.last_of_block(block).y;
  const size_t n = static_cast<size_t>(B_) * T_ * plan_.cfg.width;
  return static_cast<float>(std::sqrt(sum_squares(y, n) / static_cast<double>(n)));
}

size_t Model::bytes() const {
  return sizeof(float) * (params_.size() + grads_.size() + acts_.size() + dacts_.size() + att_.size() + scratch_.size());
}

}  // namespace resnorm

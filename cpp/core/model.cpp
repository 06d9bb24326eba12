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

namespace resnorm {

namespace {
bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}
}  // namespace

Model::Model(const ModelConfig& cfg, int vocab, int max_rows) : cfg_(cfg), vocab_(vocab), max_rows_(max_rows) {
  if (vocab < 2) throw Error("model: vocabulary/classes must be at least 2, got " + std::to_string(vocab));
  if (max_rows < 1) throw Error("model: capacity must be at least one row");
  build();
  params_.assign(num_params_, 0.0f);
  grads_.assign(num_params_, 0.0f);
  acts_.assign(num_acts_, 0.0f);
  dacts_.assign(num_acts_, 0.0f);
  att_.assign(num_att_, 0.0f);
  if (cfg_.kind == ModelKind::Gpt) scratch_.assign(static_cast<size_t>(cfg_.context) * cfg_.context, 0.0f);
}

size_t Model::add_param(const std::string& name, std::vector<int> shape, int block, bool decay) {
  Slice s;
  s.name = name;
  s.offset = num_params_;
  s.size = 1;
  for (int d : shape) s.size *= static_cast<size_t>(d);
  s.shape = std::move(shape);
  s.block = block;
  s.decay = decay;
  num_params_ += s.size;
  slices_.push_back(std::move(s));
  return slices_.back().offset;
}

size_t Model::add_act(size_t per_row) {
  const size_t o = num_acts_;
  num_acts_ += per_row * static_cast<size_t>(max_rows_);
  return o;
}

void Model::add_norm(const std::string& prefix, int block, size_t& w, size_t& b) {
  w = add_param(prefix + ".weight", {cfg_.width}, block, false);
  b = cfg_.norm == NormKind::LayerNorm ? add_param(prefix + ".bias", {cfg_.width}, block, false) : npos;
}

void Model::build() {
  const int C = cfg_.width, V = vocab_;
  const bool gpt = cfg_.kind == ModelKind::Gpt;
  const bool has_norm = cfg_.norm != NormKind::None;
  const bool norm_in = has_norm && cfg_.placement != Placement::Post;
  const bool norm_out = has_norm && cfg_.placement != Placement::Pre;

  x0_ = add_act(C);  // [N,C] stem / embedding output: the residual stream's start
  if (gpt) {
    wte_ = add_param("wte.weight", {V, C}, -1, true);
    wpe_ = add_param("wpe.weight", {cfg_.context, C}, -1, true);
  } else {
    stem_w_ = add_param("stem.weight", {C, 2}, -1, true);
    stem_b_ = add_param("stem.bias", {C}, -1, false);
  }
  size_t prev = x0_;
  for (int i = 0; i < cfg_.depth; ++i) {
    const Branch branches_gpt[] = {Branch::Attn, Branch::Ffn};
    const int nb = gpt ? 2 : 1;
    for (int k = 0; k < nb; ++k) {
      Sub s;
      s.branch = gpt ? branches_gpt[k] : Branch::Act;
      s.block = i;
      s.layer = i;
      s.x = prev;
      const std::string name = "blocks." + std::to_string(i) + (s.branch == Branch::Attn ? ".attn" : ".mlp");
      if (norm_in) {
        add_norm(name + ".norm_in", i, s.nin_w, s.nin_b);
        s.h = add_act(C);    // [N,C] normalised input of the branch
        s.h_m = add_act(1);  // [N] mean (LayerNorm)
        s.h_r = add_act(1);  // [N] 1/std
      } else {
        s.h = s.x;
      }
      switch (s.branch) {
        case Branch::Act:
          s.w1 = add_param(name + ".fc.weight", {C, C}, i, true);
          s.b1 = add_param(name + ".fc.bias", {C}, i, false);
          s.u = add_act(C);  // [N,C] pre-activation
          break;
        case Branch::Attn:
          s.w1 = add_param(name + ".qkv.weight", {3 * C, C}, i, true);
          s.b1 = add_param(name + ".qkv.bias", {3 * C}, i, false);
          s.w2 = add_param(name + ".proj.weight", {C, C}, i, true);
          s.b2 = add_param(name + ".proj.bias", {C}, i, false);
          s.u = add_act(3 * C);  // [N,3C] qkv
          s.v = add_act(C);      // [N,C] attention output before the projection
          s.att = num_att_;      // [B,H,T,T] probabilities
          num_att_ += static_cast<size_t>(max_rows_) * cfg_.heads * cfg_.context;
          break;
        case Branch::Ffn:
          s.w1 = add_param(name + ".fc.weight", {4 * C, C}, i, true);
          s.b1 = add_param(name + ".fc.bias", {4 * C}, i, false);
          s.w2 = add_param(name + ".proj.weight", {C, 4 * C}, i, true);
          s.b2 = add_param(name + ".proj.bias", {C}, i, false);
          s.u = add_act(4 * C);  // [N,4C] pre-GELU
          s.v = add_act(4 * C);  // [N,4C] post-GELU
          break;
      }
      s.f = add_act(C);  // [N,C] branch output F(.)
      if (norm_out) {
        add_norm(name + ".norm_out", i, s.nout_w, s.nout_b);
        if (cfg_.placement == Placement::Sandwich) {
          s.g = add_act(C);  // [N,C] Norm(F(.))
          s.g_m = add_act(1);
          s.g_r = add_act(1);
        } else {
          s.z = add_act(C);  // [N,C] R(x, F(x)) before the post-norm
          s.z_m = add_act(1);
          s.z_r = add_act(1);
        }
      }
      if (cfg_.residual == Residual::ReZero) s.rz = add_param(name + ".rezero", {1}, i, false);
      s.y = add_act(C);  // [N,C] residual stream after this sublayer
      prev = s.y;
      subs_.push_back(s);
    }
  }
  if (has_norm && cfg_.placement != Placement::Post) {
    add_norm("norm_f", -1, nf_w_, nf_b_);
    hf_ = add_act(C);
    hf_m_ = add_act(1);
    hf_r_ = add_act(1);
  } else {
    hf_ = prev;
  }
  if (gpt) {
    head_w_ = add_param("lm_head.weight", {V, C}, -1, true);
  } else {
    head_w_ = add_param("head.weight", {V, C}, -1, true);
    head_b_ = add_param("head.bias", {V}, -1, false);
  }
  logits_ = add_act(V);  // [N,V]
  probs_ = add_act(V);   // [N,V]
}

const Slice* Model::find(const std::string& name) const {
  for (const auto& s : slices_)
    if (s.name == name) return &s;
  return nullptr;
}

// Initialisation. mlp: PyTorch nn.Linear's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights
// and biases. gpt: nanoGPT's N(0, 0.02), zero biases, residual projections N(0, 0.02/sqrt(2L)).
// Norm gains 1, biases 0; ReZero scalars 0 (Bachlechner et al. 2020). DeepNorm (Wang et al. 2022,
// decoder-only): the branch weights (value part of qkv, attention proj, MLP fc and proj) are
// scaled by beta = (8N)^(-1/4) in place of the 1/sqrt(2L) depth scaling.
void Model::init(uint32_t seed) {
  Rng rng(seed, /*stream=*/0x1417);
  const bool gpt = cfg_.kind == ModelKind::Gpt;
  const bool deepnorm = cfg_.residual == Residual::DeepNorm;
  const double beta = std::pow(8.0 * cfg_.depth, -0.25);
  int fan_in = 1;
  for (const Slice& s : slices_) {
    float* p = params_.data() + s.offset;
    const bool is_norm = s.name.find("norm_") != std::string::npos;  // norm_in, norm_out, norm_f
    if (is_norm) { std::fill(p, p + s.size, ends_with(s.name, ".weight") ? 1.0f : 0.0f); continue; }
    if (ends_with(s.name, ".rezero")) { std::fill(p, p + s.size, 0.0f); continue; }
    const bool is_bias = ends_with(s.name, ".bias");
    if (!gpt) {
      if (!is_bias) fan_in = s.shape[1];
      const float k = 1.0f / std::sqrt(static_cast<float>(fan_in));
      for (size_t i = 0; i < s.size; ++i) p[i] = rng.uniform(-k, k);
      if (deepnorm && ends_with(s.name, ".fc.weight"))
        for (size_t i = 0; i < s.size; ++i) p[i] *= static_cast<float>(beta);
      continue;
    }
    if (is_bias) {
      std::fill(p, p + s.size, 0.0f);
      continue;
    }
    const bool proj = ends_with(s.name, ".proj.weight");
    float stdev = 0.02f;
    if (proj && !deepnorm) stdev = 0.02f / std::sqrt(2.0f * cfg_.depth);
    for (size_t i = 0; i < s.size; ++i) p[i] = stdev * rng.normal();
    if (deepnorm) {
      const float b = static_cast<float>(beta);
      if (proj || ends_with(s.name, "mlp.fc.weight"))
        for (size_t i = 0; i < s.size; ++i) p[i] *= b;
      if (ends_with(s.name, "attn.qkv.weight"))  // rows 2C..3C hold the value projection
        for (size_t i = 2 * s.size / 3; i < s.size; ++i) p[i] *= b;
    }
  }
  zero_grad();
}

void Model::zero_grad() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

void Model::norm_forward(size_t out, size_t mean, size_t rstd, size_t in, size_t w, size_t b, int N) {
  const float eps = static_cast<float>(cfg_.eps);
  if (cfg_.norm == NormKind::LayerNorm)
    layernorm_forward(A(out), A(mean), A(rstd), A(in), P(w), P(b), N, cfg_.width, eps);
  else
    rmsnorm_forward(A(out), A(rstd), A(in), P(w), N, cfg_.width, eps);
}

void Model::norm_backward(size_t din, size_t dout, size_t in, size_t w, size_t b, size_t mean, size_t rstd, int N) {
  if (cfg_.norm == NormKind::LayerNorm)
    layernorm_backward(D(din), G(w), G(b), D(dout), A(in), P(w), A(mean), A(rstd), N, cfg_.width);
  else
    rmsnorm_backward(D(din), G(w), D(dout), A(in), P(w), A(rstd), N, cfg_.width);
}

float Model::residual_scale(const Sub& s) const {
  if (cfg_.residual == Residual::ReZero) return params_[s.rz];
  if (cfg_.residual == Residual::DeepNorm) return static_cast<float>(std::pow(2.0 * cfg_.depth, 0.25));
  return 1.0f;
}

void Model::sub_forward(const Sub& s, int N) {
  const int C = cfg_.width;
  const size_t n = static_cast<size_t>(N) * C;
  if (s.nin_w != npos) norm_forward(s.h, s.h_m, s.h_r, s.x, s.nin_w, s.nin_b, N);
  switch (s.branch) {
    case Branch::Act:
      linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, C);
      activation_forward(A(s.f), A(s.u), n, cfg_.activation);
      break;
    case Branch::Attn:
      linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, 3 * C);
      attention_forward(A(s.v), att_.data() + s.att, A(s.u), B_, T_, C, cfg_.heads);
      linear_forward(A(s.f), A(s.v), P(s.w2), P(s.b2), N, C, C);
      break;
    case Branch::Ffn:
      linear_forward(A(s.u), A(s.h), P(s.w1), P(s.b1), N, C, 4 * C);
      activation_forward(A(s.v), A(s.u), 4 * n, Activation::Gelu);
      linear_forward(A(s.f), A(s.v), P(s.w2), P(s.b2), N, 4 * C, C);
      break;
  }
  const bool sandwich = s.nout_w != npos && cfg_.placement == Placement::Sandwich;
  const bool post = s.nout_w != npos && cfg_.placement == Placement::Post;
  size_t fo = s.f;
  if (sandwich) {
    norm_forward(s.g, s.g_m, s.g_r, s.f, s.nout_w, s.nout_b, N);
    fo = s.g;
  }
  const float a = residual_scale(s);
  if (post) {
    residual_forward(A(s.z), A(s.x), A(fo), n, cfg_.residual, a);
    norm_forward(s.y, s.z_m, s.z_r, s.z, s.nout_w, s.nout_b, N);
  } else {
    residual_forward(A(s.y), A(s.x), A(fo), n, cfg_.residual, a);
  }
}

void Model::sub_backward(const Sub& s, int N) {
  const int C = cfg_.width;
  const size_t n = static_cast<size_t>(N) * C;
  const bool sandwich = s.nout_w != npos && cfg_.placement == Placement::Sandwich;
  const bool post = s.nout_w != npos && cfg_.placement == Placement::Post;
  const size_t fo = sandwich ? s.g : s.f;
  size_t dsum = s.y;
  if (post) {
    norm_backward(s.z, s.y, s.z, s.nout_w, s.nout_b, s.z_m, s.z_r, N);
    dsum = s.z;
  }
  residual_backward(D(s.x), D(fo), s.rz != npos ? G(s.rz) : nullptr, D(dsum), A(fo), n, cfg_.residual,
                    residual_scale(s));
  if (sandwich) norm_backward(s.f, s.g, s.f, s.nout_w, s.nout_b, s.g_m, s.g_r, N);
  switch (s.branch) {
    case Branch::Act:
      activation_backward(D(s.u), D(s.f), A(s.u), n, cfg_.activation);
      linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, C);
      break;
    case Branch::Attn:
      linear_backward(D(s.v), G(s.w2), G(s.b2), D(s.f), A(s.v), P(s.w2), N, C, C);
      attention_backward(D(s.u), scratch_.data(), D(s.v), A(s.u), att_.data() + s.att, B_, T_, C, cfg_.heads);
      linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, 3 * C);
      break;
    case Branch::Ffn:
      linear_backward(D(s.v), G(s.w2), G(s.b2), D(s.f), A(s.v), P(s.w2), N, 4 * C, C);
      activation_backward(D(s.u), D(s.v), A(s.u), 4 * n, Activation::Gelu);
      linear_backward(D(s.h), G(s.w1), G(s.b1), D(s.u), A(s.h), P(s.w1), N, C, 4 * C);
      break;
  }
  if (s.nin_w != npos) norm_backward(s.x, s.h, s.x, s.nin_w, s.nin_b, s.h_m, s.h_r, N);
}

double Model::forward(const float* points, const int* tokens, const int* targets, int B, int T) {
  const bool gpt = cfg_.kind == ModelKind::Gpt;
  if (B < 1 || T < 1 || static_cast<long>(B) * T > max_rows_)
    throw Error("model: batch of " + std::to_string(B) + "x" + std::to_string(T) + " rows exceeds the capacity of " +
                std::to_string(max_rows_));
  if (gpt && T > cfg_.context)
    throw Error("model: sequence length " + std::to_string(T) + " exceeds model.context = " + std::to_string(cfg_.context));
  if (!gpt && T != 1) throw Error("model: mlp takes T = 1");
  B_ = B;
  T_ = T;
  points_ = points;
  tokens_ = tokens;
  targets_ = targets;
  const int N = B * T, C = cfg_.width, V = vocab_;
  if (gpt) {
    for (int i = 0; i < N; ++i)
      if (tokens[i] < 0 || tokens[i] >= V) throw Error("model: token id " + std::to_string(tokens[i]) + " out of range");
    embedding_forward(A(x0_), tokens, P(wte_), P(wpe_), B, T, C);
  } else {
    linear_forward(A(x0_), points, P(stem_w_), P(stem_b_), N, 2, C);
  }
  for (const Sub& s : subs_) sub_forward(s, N);
  if (nf_w_ != npos) norm_forward(hf_, hf_m_, hf_r_, subs_.back().y, nf_w_, nf_b_, N);
  linear_forward(A(logits_), A(hf_), P(head_w_), head_b_ == npos ? nullptr : P(head_b_), N, C, V);
  return cross_entropy_forward(A(probs_), A(logits_), targets, N, V);
}

void Model::backward() {
  if (!targets_) throw Error("model: backward needs a forward with targets");
  const int N = B_ * T_, C = cfg_.width, V = vocab_;
  std::fill(dacts_.begin(), dacts_.end(), 0.0f);
  cross_entropy_backward(D(logits_), A(probs_), targets_, N, V);
  linear_backward(D(hf_), G(head_w_), head_b_ == npos ? nullptr : G(head_b_), D(logits_), A(hf_), P(head_w_), N, C, V);
  if (nf_w_ != npos) norm_backward(subs_.back().y, hf_, subs_.back().y, nf_w_, nf_b_, hf_m_, hf_r_, N);
  for (auto it = subs_.rbegin(); it != subs_.rend(); ++it) sub_backward(*it, N);
  if (cfg_.kind == ModelKind::Gpt)
    embedding_backward(G(wte_), G(wpe_), D(x0_), tokens_, B_, T_, C);
  else
    linear_backward(nullptr, G(stem_w_), G(stem_b_), D(x0_), points_, P(stem_w_), N, 2, C);
}

const float* Model::probs() const { return acts_.data() + probs_; }
const float* Model::logits() const { return acts_.data() + logits_; }

const float* Model::attention(int layer) const {
  if (cfg_.kind != ModelKind::Gpt || layer < 0 || layer >= cfg_.depth)
    throw Error("model: attention layer " + std::to_string(layer) + " out of range (0.." +
                std::to_string(cfg_.depth - 1) + ")");
  return att_.data() + subs_[static_cast<size_t>(layer) * 2].att;
}

float Model::block_rms(int block) const {
  const size_t per = cfg_.kind == ModelKind::Gpt ? 2 : 1;
  const float* y = acts_.data() + subs_[(static_cast<size_t>(block) + 1) * per - 1].y;
  const size_t n = static_cast<size_t>(B_) * T_ * cfg_.width;
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(y[i]) * y[i];
  return static_cast<float>(std::sqrt(s / static_cast<double>(n)));
}

size_t Model::bytes() const {
  return sizeof(float) * (params_.size() + grads_.size() + acts_.size() + dacts_.size() + att_.size() + scratch_.size());
}

}  // namespace resnorm

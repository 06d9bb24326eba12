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
#include "parallel.h"
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
  scratch_.assign(plan_.scratch, 0.0f);
  bufs_.assign(plan_.num_bufs, 0.0f);
  bufs_saved_.assign(plan_.num_bufs, 0.0f);
}

// The plan itself (make_plan, the layout and the cnn's stages) is built in plan.cpp.

const Slice* Model::find(const std::string& name) const {
  for (const auto& s : plan_.slices)
    if (s.name == name) return &s;
  return nullptr;
}

// Initialisation, PyTorch's default scales: nn.Linear weights and biases U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)); nn.Conv2d the same with fan_in = IC*K*K (kaiming_uniform_ with a = sqrt(5) gives
// bound gain * sqrt(3 / fan_in) = sqrt(1/3) * sqrt(3 / fan_in)); nn.Embedding N(0, 1); norm gains 1
// and biases 0 (BatchNorm too; its running mean 0, running variance 1, count 0); ReZero gates 0 (Bachlechner
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
    if (!ends_with(s.name, ".bias")) {  // a bias follows its weight; a conv's fan_in is IC * K * K
      fan_in = 1;
      for (size_t d = 1; d < s.shape.size(); ++d) fan_in *= s.shape[d];
    }
    const float k = 1.0f / std::sqrt(static_cast<float>(fan_in));
    for (size_t i = 0; i < s.size; ++i) p[i] = rng.uniform(-k, k);
    if (!deepnorm) continue;
    if (ends_with(s.name, "mlp.fc.weight") || (gpt && ends_with(s.name, ".proj.weight")))
      for (size_t i = 0; i < s.size; ++i) p[i] *= beta;
    if (ends_with(s.name, "attn.qkv.weight"))  // rows 2C..3C hold the value projection
      for (size_t i = 2 * s.size / 3; i < s.size; ++i) p[i] *= beta;
  }
  for (const Slice& s : plan_.buffers)
    std::fill(bufs_.data() + s.offset, bufs_.data() + s.offset + s.size, ends_with(s.name, ".running_var") ? 1.0f : 0.0f);
  zero_grad();
}

void Model::save_buffers() { std::copy(bufs_.begin(), bufs_.end(), bufs_saved_.begin()); }
void Model::restore_buffers() { std::copy(bufs_saved_.begin(), bufs_saved_.end(), bufs_.begin()); }

std::string Model::zero_variance_site() const {
  const int rows = B_ * T_;
  for (const NormStatSite& n : plan_.norm_stats) {
    const size_t count = plan_.cfg.norm == NormKind::BatchNorm ? static_cast<size_t>(n.C) : static_cast<size_t>(rows) * n.positions;
    const float* r = acts_.data() + n.rstd;
    for (size_t i = 0; i < count; ++i)
      if (std::isinf(r[i]))
        return n.name + (n.block >= 0 ? " (block " + std::to_string(n.block) + ")" : std::string());
  }
  return "";
}

void Model::zero_grad() {
  parallel_elementwise(grads_.size(), {grads_.data()}, [&](size_t o, size_t k) { std::fill_n(grads_.data() + o, k, 0.0f); });
}

void Model::norm_forward(size_t out, size_t mean, size_t rstd, size_t in, size_t w, size_t b, int N, size_t buf, int C) {
  const float eps = static_cast<float>(plan_.cfg.eps);
  if (C == 0) C = plan_.cfg.width;
  switch (plan_.cfg.norm) {
    case NormKind::LayerNorm: layernorm_forward(A(out), A(mean), A(rstd), A(in), P(w), P(b), N, C, eps); break;
    case NormKind::RmsNorm: rmsnorm_forward(A(out), A(rstd), A(in), P(w), N, C, eps); break;
    case NormKind::BatchNorm: {
      float* rb = bufs_.data() + buf;  // running_mean [C], running_var [C], num_batches_tracked
      batchnorm_forward(A(out), A(mean), A(rstd), rb, rb + C, A(in), P(w), P(b), N, C, eps, kBatchNormMomentum, training_);
      if (training_) rb[2 * C] += 1.0f;
      break;
    }
    case NormKind::None: break;
  }
}

void Model::norm_backward(size_t din, size_t dout, size_t in, size_t w, size_t b, size_t mean, size_t rstd, int N, int C) {
  if (C == 0) C = plan_.cfg.width;
  switch (plan_.cfg.norm) {
    case NormKind::LayerNorm: layernorm_backward(D(din), G(w), G(b), D(dout), A(in), P(w), A(mean), A(rstd), N, C); break;
    case NormKind::RmsNorm: rmsnorm_backward(D(din), G(w), D(dout), A(in), P(w), A(rstd), N, C); break;
    case NormKind::BatchNorm:
      batchnorm_backward(D(din), G(w), G(b), scratch_.data(), D(dout), A(in), P(w), A(mean), A(rstd), N, C);
      break;
    case NormKind::None: break;
  }
}

float Model::residual_scale(const SubPlan& s) const {
  if (plan_.cfg.residual == Residual::ReZero) return params_[s.rz];
  if (plan_.cfg.residual == Residual::DeepNorm) return plan_.deepnorm_alpha();
  return 1.0f;
}

void Model::sub_forward(const SubPlan& s, int N) {
  const int C = plan_.cfg.width;
  const size_t n = static_cast<size_t>(N) * C;
  if (s.nin_w != kNoOffset) norm_forward(s.h, s.h_m, s.h_r, s.x, s.nin_w, s.nin_b, N, s.nin_buf);
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
    norm_forward(s.g, s.g_m, s.g_r, s.f, s.nout_w, s.nout_b, N, s.nout_buf);
    fo = s.g;
  }
  const float a = residual_scale(s);
  if (post) {
    residual_forward(A(s.z), A(s.x), A(fo), n, plan_.cfg.residual, a);
    norm_forward(s.y, s.z_m, s.z_r, s.z, s.nout_w, s.nout_b, N, s.nout_buf);
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
  if (plan_.cfg.kind == ModelKind::Cnn) {
    if (T != 1) throw Error("model: cnn takes T = 1");
    B_ = B, T_ = 1, points_ = points, tokens_ = tokens, targets_ = targets;
    cnn_forward(points, B);
    return cross_entropy_forward(A(plan_.probs), A(plan_.logits), targets, B, plan_.vocab);
  }
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
  if (plan_.nf_w != kNoOffset)
    norm_forward(plan_.hf, plan_.hf_m, plan_.hf_r, plan_.subs.back().y, plan_.nf_w, plan_.nf_b, N, plan_.nf_buf);
  linear_forward(A(plan_.logits), A(plan_.hf), P(plan_.head_w), plan_.head_b == kNoOffset ? nullptr : P(plan_.head_b), N, C, V);
  return cross_entropy_forward(A(plan_.probs), A(plan_.logits), targets, N, V);
}

void Model::backward() {
  if (!targets_) throw Error("model: backward needs a forward with targets");
  const int N = B_ * T_, C = plan_.cfg.width, V = plan_.vocab;
  // only the N rows this batch uses; the buffers are cleared as independent tasks on the pool
  size_t total = 0;
  for (const auto& buf : plan_.act_buffers) total += static_cast<size_t>(N) * buf.second;
  parallel_tasks(static_cast<int>(plan_.act_buffers.size()), static_cast<double>(total), [&](int c) {
    const auto& [offset, per_row] = plan_.act_buffers[static_cast<size_t>(c)];
    std::fill_n(dacts_.data() + offset, static_cast<size_t>(N) * per_row, 0.0f);
  });
  cross_entropy_backward(D(plan_.logits), A(plan_.probs), targets_, N, V);
  if (plan_.cfg.kind == ModelKind::Cnn) {
    cnn_backward();
    return;
  }
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
  const float* y;
  size_t n;
  if (plan_.cfg.kind == ModelKind::Cnn) {
    const CnnBlock& k = plan_.cnn[static_cast<size_t>(block)];
    y = acts_.data() + k.y;
    n = static_cast<size_t>(B_) * k.hout * k.hout * k.cout;
  } else {
    y = acts_.data() + plan_.last_of_block(block).y;
    n = static_cast<size_t>(B_) * T_ * plan_.cfg.width;
  }
  return static_cast<float>(std::sqrt(sum_squares(y, n) / static_cast<double>(n)));
}

size_t Model::bytes() const {
  return sizeof(float) * (params_.size() + grads_.size() + acts_.size() + dacts_.size() + att_.size() + scratch_.size() +
                          bufs_.size() + bufs_saved_.size());
}

// ---- cnn: the forward as a flat list of op calls, the backward that list reversed.

void Model::site_forward(const NormSite& n, size_t out, size_t in, int rows) {
  if (n.w != kNoOffset) norm_forward(out, n.mean, n.rstd, in, n.w, n.b, rows, n.buf, n.C);
}

void Model::site_backward(const NormSite& n, size_t din, size_t dout, size_t in, int rows) {
  if (n.w != kNoOffset) norm_backward(din, dout, in, n.w, n.b, n.mean, n.rstd, rows, n.C);
}

void Model::conv_forward(const ConvSite& c, size_t out, const float* in, int B) {
  conv2d_forward(A(out), scratch_.data(), in, P(c.w), B, c.hin, c.hin, c.ic, c.oc, c.k, c.s, c.p);
}

void Model::conv_backward(const ConvSite& c, size_t din, size_t dout, const float* in, int B) {
  const size_t half = scratch_.size() / 2;  // cols | dcols
  conv2d_backward(din == kNoOffset ? nullptr : D(din), G(c.w), scratch_.data(), scratch_.data() + half, D(dout), in, P(c.w),
                  B, c.hin, c.hin, c.ic, c.oc, c.k, c.s, c.p);
}

void Model::cnn_forward(const float* images, int B) {
  const ModelPlan& p = plan_;
  const Activation act = p.cfg.activation;
  const bool pre = p.cfg.placement == Placement::Pre;
  const int H = p.cfg.image, w = p.cfg.width;
  const size_t nstem = static_cast<size_t>(B) * H * H * w;
  conv_forward(p.stem, p.c0, images, B);
  if (!pre) {
    site_forward(p.stem_norm, p.n0, p.c0, B * H * H);
    activation_forward(A(p.x0), A(p.n0), nstem, act);
  }
  for (const CnnBlock& k : p.cnn) {
    const int rin = B * k.hin * k.hin, rout = B * k.hout * k.hout;
    const size_t nin = static_cast<size_t>(rin) * k.cin, nout = static_cast<size_t>(rout) * k.cout;
    const float a = k.rz != kNoOffset ? params_[k.rz] : 1.0f;
    if (pre) {
      site_forward(k.n1, k.n1o, k.x, rin);
      activation_forward(A(k.a1), A(k.n1o), nin, act);
      conv_forward(k.conv1, k.c1, A(k.a1), B);
      site_forward(k.n2, k.n2o, k.c1, rout);
      activation_forward(A(k.a2), A(k.n2o), nout, act);
      conv_forward(k.conv2, k.c2, A(k.a2), B);
      size_t s = k.x;
      if (k.sc.w != kNoOffset) { conv_forward(k.sc, k.sco, A(k.a1), B); s = k.sco; }
      residual_forward(A(k.y), A(s), A(k.c2), nout, p.cfg.residual, a);
    } else {
      conv_forward(k.conv1, k.c1, A(k.x), B);
      site_forward(k.n1, k.n1o, k.c1, rout);
      activation_forward(A(k.a1), A(k.n1o), nout, act);
      conv_forward(k.conv2, k.c2, A(k.a1), B);
      site_forward(k.n2, k.n2o, k.c2, rout);
      size_t s = k.x;
      if (k.sc.w != kNoOffset) {
        conv_forward(k.sc, k.sco, A(k.x), B);
        site_forward(k.nsc, k.sno, k.sco, rout);
        s = k.sno;
      }
      residual_forward(A(k.z), A(s), A(k.n2o), nout, p.cfg.residual, a);
      activation_forward(A(k.y), A(k.z), nout, act);
    }
  }
  const CnnBlock& last = p.cnn.back();
  const int HW = last.hout * last.hout, C = last.cout;
  if (pre) {
    site_forward(p.final_norm, p.hf, last.y, B * HW);
    activation_forward(A(p.fa), A(p.hf), static_cast<size_t>(B) * HW * C, act);
  }
  global_avgpool_forward(A(p.pooled), A(p.fa), B, HW, C);
  linear_forward(A(p.logits), A(p.pooled), P(p.head_w), P(p.head_b), B, C, p.vocab);
}

void Model::cnn_backward() {
  const ModelPlan& p = plan_;
  const Activation act = p.cfg.activation;
  const bool pre = p.cfg.placement == Placement::Pre;
  const int B = B_, H = p.cfg.image, w = p.cfg.width;
  const CnnBlock& last = p.cnn.back();
  const int HW = last.hout * last.hout, C = last.cout;
  linear_backward(D(p.pooled), G(p.head_w), G(p.head_b), D(p.logits), A(p.pooled), P(p.head_w), B, C, p.vocab);
  global_avgpool_backward(D(p.fa), D(p.pooled), B, HW, C);
  if (pre) {
    activation_backward(D(p.hf), D(p.fa), A(p.hf), static_cast<size_t>(B) * HW * C, act);
    site_backward(p.final_norm, last.y, p.hf, last.y, B * HW);
  }
  for (auto it = p.cnn.rbegin(); it != p.cnn.rend(); ++it) {
    const CnnBlock& k = *it;
    const int rin = B * k.hin * k.hin, rout = B * k.hout * k.hout;
    const size_t nin = static_cast<size_t>(rin) * k.cin, nout = static_cast<size_t>(rout) * k.cout;
    const float a = k.rz != kNoOffset ? params_[k.rz] : 1.0f;
    float* da = k.rz != kNoOffset ? G(k.rz) : nullptr;
    if (pre) {
      const size_t s = k.sc.w != kNoOffset ? k.sco : k.x;
      residual_backward(D(s), D(k.c2), da, D(k.y), A(k.c2), nout, p.cfg.residual, a);
      conv_backward(k.conv2, k.a2, k.c2, A(k.a2), B);
      activation_backward(D(k.n2o), D(k.a2), A(k.n2o), nout, act);
      site_backward(k.n2, k.c1, k.n2o, k.c1, rout);
      conv_backward(k.conv1, k.a1, k.c1, A(k.a1), B);
      if (k.sc.w != kNoOffset) conv_backward(k.sc, k.a1, k.sco, A(k.a1), B);
      activation_backward(D(k.n1o), D(k.a1), A(k.n1o), nin, act);
      site_backward(k.n1, k.x, k.n1o, k.x, rin);
    } else {
      activation_backward(D(k.z), D(k.y), A(k.z), nout, act);
      const size_t s = k.sc.w != kNoOffset ? k.sno : k.x;
      residual_backward(D(s), D(k.n2o), da, D(k.z), A(k.n2o), nout, p.cfg.residual, a);
      if (k.sc.w != kNoOffset) {
        site_backward(k.nsc, k.sco, k.sno, k.sco, rout);
        conv_backward(k.sc, k.x, k.sco, A(k.x), B);
      }
      site_backward(k.n2, k.c2, k.n2o, k.c2, rout);
      conv_backward(k.conv2, k.a1, k.c2, A(k.a1), B);
      activation_backward(D(k.n1o), D(k.a1), A(k.n1o), nout, act);
      site_backward(k.n1, k.c1, k.n1o, k.c1, rout);
      conv_backward(k.conv1, k.x, k.c1, A(k.x), B);
    }
  }
  if (!pre) {
    activation_backward(D(p.n0), D(p.x0), A(p.n0), static_cast<size_t>(B) * H * H * w, act);
    site_backward(p.stem_norm, p.c0, p.n0, p.c0, B * H * H);
  }
  conv_backward(p.stem, kNoOffset, p.c0, points_, B);
}

}  // namespace resnorm

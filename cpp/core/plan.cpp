// The model's plan: the layout of parameters, buffers and activations, the sublayers in order with their
// residual / norm / placement (mlp, gpt) and the cnn's stages and blocks (ResNet v1 post, v2 pre). Built once
// per model; Model (model.cpp) and the plan executor (exec/) walk it. Compiled for size in the wasm build
// (cpp/wasm/wasm.cmake): it runs once per config, not per step.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.h"
#include "model.h"
#include "ops/ops.h"  // conv2d_out_size

namespace resnorm {
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
  size_t flat(size_t n) {
    const size_t o = p.num_acts;
    p.num_acts += n;
    return o;
  }
  bool bn() const { return p.cfg.norm == NormKind::BatchNorm; }
  // BatchNorm's buffers, PyTorch's names: running_mean [C] (0), running_var [C] (1), num_batches_tracked.
  size_t buffers(const std::string& prefix, int C, int block) {
    const size_t o = p.num_bufs;
    const char* names[] = {".running_mean", ".running_var", ".num_batches_tracked"};
    for (int k = 0; k < 3; ++k) {
      Slice s;
      s.name = prefix + names[k];
      s.offset = p.num_bufs;
      s.size = k < 2 ? static_cast<size_t>(C) : 1;
      if (k < 2) s.shape = {C};  // num_batches_tracked is a scalar (shape []), int64 in a checkpoint
      s.i64 = k == 2;
      s.block = block;
      p.num_bufs += s.size;
      p.buffers.push_back(std::move(s));
    }
    p.scratch = std::max(p.scratch, 2 * static_cast<size_t>(C));  // batchnorm_backward's per-channel sums
    return o;
  }
  void norm(const std::string& prefix, int block, size_t& w, size_t& b, size_t* buf = nullptr, int C = 0) {
    if (C == 0) C = p.cfg.width;
    w = param(prefix + ".weight", {C}, block, false);
    b = p.cfg.norm == NormKind::LayerNorm || bn() ? param(prefix + ".bias", {C}, block, false) : kNoOffset;
    if (buf) *buf = bn() ? buffers(prefix, C, block) : kNoOffset;
  }
  // A norm's saved statistics: per row ([max_rows * rows_per]) or, for BatchNorm, per channel.
  size_t stat(int C, size_t rows_per = 1) {
    return flat(std::max(static_cast<size_t>(p.max_rows) * rows_per, static_cast<size_t>(C)));
  }
  void record(const std::string& name, int block, size_t rstd, int C, int positions) {
    p.norm_stats.push_back(NormStatSite{name, block, rstd, C, positions});
  }
  // cnn: a norm site over [rows, C] with `positions` rows per image.
  NormSite site(const std::string& prefix, int block, int C, int positions) {
    NormSite n;
    n.C = C;
    norm(prefix, block, n.w, n.b, &n.buf, C);
    n.mean = stat(C, static_cast<size_t>(positions));
    n.rstd = stat(C, static_cast<size_t>(positions));
    record(prefix, block, n.rstd, C, positions);
    return n;
  }
  ConvSite conv(const std::string& name, int block, int ic, int oc, int k, int stride, int hin) {
    ConvSite c;
    c.w = param(name, {oc, ic, k, k}, block, true);
    c.ic = ic, c.oc = oc, c.k = k, c.s = stride, c.p = k / 2, c.hin = hin;
    const int ho = conv2d_out_size(hin, k, stride, c.p);
    // im2col columns and their gradient: [max_rows * ho * ho, ic * k * k] each
    p.scratch = std::max(p.scratch, 2 * static_cast<size_t>(p.max_rows) * ho * ho * ic * k * k);
    return c;
  }
};

// The cnn's op list (CnnOp in model.h) over the layout below: ResNet v1 (post) and v2 (pre), in the
// order the backward reversed needs (pre: the projection shortcut's conv before conv1, so its input
// gradient adds after conv1's). A norm site without parameters (norm none) has no op: its output aliases its input.
void cnn_walk(ModelPlan& p) {
  const bool pre = p.cfg.placement == Placement::Pre;
  auto conv = [&](const ConvSite& c, size_t in, size_t out) {
    CnnOp o;
    o.kind = CnnOpKind::Conv, o.in = in, o.out = out, o.conv = c;
    p.cnn_ops.push_back(o);
  };
  auto norm = [&](const NormSite& n, size_t in, size_t out, int rows_per_sample) {
    if (n.w == kNoOffset) return;
    CnnOp o;
    o.kind = CnnOpKind::Norm, o.in = in, o.out = out, o.norm = n, o.per_sample = rows_per_sample;
    p.cnn_ops.push_back(o);
  };
  auto act = [&](size_t in, size_t out, int per_sample) {
    CnnOp o;
    o.kind = CnnOpKind::Act, o.in = in, o.out = out, o.per_sample = per_sample;
    p.cnn_ops.push_back(o);
  };
  auto residual = [&](size_t skip, size_t f, size_t out, size_t rz, int per_sample) {
    CnnOp o;
    o.kind = CnnOpKind::Residual, o.in = f, o.skip = skip, o.out = out, o.rz = rz, o.per_sample = per_sample;
    p.cnn_ops.push_back(o);
  };
  const int H = p.cfg.image, w = p.cfg.width;
  conv(p.stem, kNoOffset, p.c0);
  if (!pre) {
    norm(p.stem_norm, p.c0, p.n0, H * H);
    act(p.n0, p.x0, H * H * w);
  }
  for (const CnnBlock& k : p.cnn) {
    const int pin = k.hin * k.hin, pout = k.hout * k.hout;
    const bool project = k.sc.w != kNoOffset;
    if (pre) {
      norm(k.n1, k.x, k.n1o, pin);
      act(k.n1o, k.a1, pin * k.cin);
      if (project) conv(k.sc, k.a1, k.sco);
      conv(k.conv1, k.a1, k.c1);
      norm(k.n2, k.c1, k.n2o, pout);
      act(k.n2o, k.a2, pout * k.cout);
      conv(k.conv2, k.a2, k.c2);
      residual(project ? k.sco : k.x, k.c2, k.y, k.rz, pout * k.cout);
    } else {
      conv(k.conv1, k.x, k.c1);
      norm(k.n1, k.c1, k.n1o, pout);
      act(k.n1o, k.a1, pout * k.cout);
      conv(k.conv2, k.a1, k.c2);
      norm(k.n2, k.c2, k.n2o, pout);
      if (project) {
        conv(k.sc, k.x, k.sco);
        norm(k.nsc, k.sco, k.sno, pout);
      }
      residual(project ? k.sno : k.x, k.n2o, k.z, k.rz, pout * k.cout);
      act(k.z, k.y, pout * k.cout);
    }
  }
  if (pre) {
    const CnnBlock& last = p.cnn.back();
    const int plast = last.hout * last.hout;
    norm(p.final_norm, last.y, p.hf, plast);
    act(p.hf, p.fa, plast * last.cout);
  }
}

// The cnn's layout (see CnnBlock in model.h): stem, three stages of depth blocks with widths w, 2w,
// 4w (stride 2 at the first block of stages 2 and 3), global average pooling, linear head.
void make_cnn_plan(ModelPlan& p, PlanBuilder& pb) {
  const ModelConfig& c = p.cfg;
  const bool norm = c.norm != NormKind::None, pre = c.placement == Placement::Pre;
  const bool shortcut = c.residual == Residual::Identity || c.residual == Residual::ReZero;
  const int H = c.image, w = c.width;
  const size_t HW = static_cast<size_t>(H) * H;
  p.stem = pb.conv("stem.conv.weight", -1, 1, w, 3, 1, H);
  p.c0 = pb.act(HW * w);  // [B,H,H,w]
  if (pre) {
    p.x0 = p.c0;
  } else {
    p.n0 = p.c0;
    if (norm) { p.stem_norm = pb.site("stem.norm_out", -1, w, static_cast<int>(HW)); p.n0 = pb.act(HW * w); }
    p.x0 = pb.act(HW * w);
  }
  size_t prev = p.x0;
  int hin = H, cin = w, b = 0;
  for (int stage = 0; stage < 3; ++stage) {
    const int cout = w << stage;
    for (int i = 0; i < c.depth; ++i, ++b) {
      CnnBlock k;
      k.block = b;
      k.cin = cin, k.cout = cout, k.stride = (stage > 0 && i == 0) ? 2 : 1, k.hin = hin;
      k.hout = conv2d_out_size(hin, 3, k.stride, 1);
      const size_t pin = static_cast<size_t>(hin) * hin, pout = static_cast<size_t>(k.hout) * k.hout;
      const std::string name = "blocks." + std::to_string(b);
      k.x = prev;
      k.conv1 = pb.conv(name + ".conv1.weight", b, cin, cout, 3, k.stride, hin);
      k.conv2 = pb.conv(name + ".conv2.weight", b, cout, cout, 3, 1, k.hout);
      const bool project = shortcut && (k.stride != 1 || cin != cout);
      if (project) k.sc = pb.conv(name + ".shortcut.weight", b, cin, cout, 1, k.stride, hin);
      if (pre) {
        k.n1o = k.x;
        if (norm) { k.n1 = pb.site(name + ".norm_1", b, cin, static_cast<int>(pin)); k.n1o = pb.act(pin * cin); }
        k.a1 = pb.act(pin * cin);
        k.c1 = pb.act(pout * cout);
        k.n2o = k.c1;
        if (norm) { k.n2 = pb.site(name + ".norm_2", b, cout, static_cast<int>(pout)); k.n2o = pb.act(pout * cout); }
        k.a2 = pb.act(pout * cout);
        k.c2 = pb.act(pout * cout);
        if (project) k.sco = pb.act(pout * cout);
        if (c.residual == Residual::ReZero) k.rz = pb.param(name + ".rezero", {1}, b, false);
        k.y = pb.act(pout * cout);
      } else {
        k.c1 = pb.act(pout * cout);
        k.n1o = k.c1;
        if (norm) { k.n1 = pb.site(name + ".norm_1", b, cout, static_cast<int>(pout)); k.n1o = pb.act(pout * cout); }
        k.a1 = pb.act(pout * cout);
        k.c2 = pb.act(pout * cout);
        k.n2o = k.c2;
        if (norm) { k.n2 = pb.site(name + ".norm_2", b, cout, static_cast<int>(pout)); k.n2o = pb.act(pout * cout); }
        if (project) {
          k.sco = pb.act(pout * cout);
          k.sno = k.sco;
          if (norm) { k.nsc = pb.site(name + ".norm_sc", b, cout, static_cast<int>(pout)); k.sno = pb.act(pout * cout); }
        }
        if (c.residual == Residual::ReZero) k.rz = pb.param(name + ".rezero", {1}, b, false);
        k.z = pb.act(pout * cout);
        k.y = pb.act(pout * cout);
      }
      prev = k.y;
      p.cnn.push_back(k);
      hin = k.hout, cin = cout;
    }
  }
  const size_t plast = static_cast<size_t>(hin) * hin;
  p.hf = prev;
  p.fa = prev;
  if (pre) {
    if (norm) { p.final_norm = pb.site("norm_f", -1, cin, static_cast<int>(plast)); p.hf = pb.act(plast * cin); }
    p.fa = pb.act(plast * cin);
  }
  p.pooled = pb.act(static_cast<size_t>(cin));  // [B, 4w]
  cnn_walk(p);
  p.head_w = pb.param("head.weight", {p.vocab, cin}, -1, true);
  p.head_b = pb.param("head.bias", {p.vocab}, -1, false);
  p.logits = pb.act(static_cast<size_t>(p.vocab));
  p.probs = pb.act(static_cast<size_t>(p.vocab));
}

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
  if (cfg.kind == ModelKind::Cnn) {
    make_cnn_plan(p, pb);
    return p;
  }
  if (cfg.kind == ModelKind::Gpt) p.scratch = static_cast<size_t>(cfg.context) * cfg.context;
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
        pb.norm(name + ".norm_in", i, s.nin_w, s.nin_b, &s.nin_buf);
        s.h = pb.act(C);      // [N,C] normalised input of the branch
        s.h_m = pb.stat(C);   // [N] mean (LayerNorm); [C] for BatchNorm
        s.h_r = pb.stat(C);   // [N] 1/std; [C] for BatchNorm
        pb.record(name + ".norm_in", i, s.h_r, C, 1);
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
        pb.norm(name + ".norm_out", i, s.nout_w, s.nout_b, &s.nout_buf);
        if (cfg_.placement == Placement::Sandwich) {
          s.g = pb.act(C);  // [N,C] Norm(F(.))
          s.g_m = pb.stat(C);
          s.g_r = pb.stat(C);
          pb.record(name + ".norm_out", i, s.g_r, C, 1);
        } else {
          s.z = pb.act(C);  // [N,C] R(x, F(x)) before the post-norm
          s.z_m = pb.stat(C);
          s.z_r = pb.stat(C);
          pb.record(name + ".norm_out", i, s.z_r, C, 1);
        }
      }
      if (cfg_.residual == Residual::ReZero) s.rz = pb.param(name + ".rezero", {1}, i, false);
      s.y = pb.act(C);  // [N,C] residual stream after this sublayer
      prev = s.y;
      p.subs.push_back(s);
    }
  }
  if (has_norm && cfg_.placement != Placement::Post) {
    pb.norm("norm_f", -1, p.nf_w, p.nf_b, &p.nf_buf);
    p.hf = pb.act(C);
    p.hf_m = pb.stat(C);
    p.hf_r = pb.stat(C);
    pb.record("norm_f", -1, p.hf_r, C, 1);
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
  // Model: the executor's blocks (the batch is read where it is) and CpuOps' scratch (HostOps::reserve).
  const size_t R = static_cast<size_t>(p.max_rows), W = static_cast<size_t>(p.cfg.width);
  const size_t T = static_cast<size_t>(p.cfg.context);
  const size_t ops_scratch = std::max({R * W, T * T, 8 * W}) + p.scratch;
  return sizeof(float) * (2 * p.num_params + 2 * p.num_acts + p.num_att + 2 * p.num_bufs + R + ops_scratch);
}

}  // namespace resnorm

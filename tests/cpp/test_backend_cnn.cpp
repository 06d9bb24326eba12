// [backend] for issue 11 and 12 on the plan executor (cpp/core/exec), which the CUDA backend runs: the cnn plan (conv, pooling, BatchNorm with its
// running statistics, the doubled residual), BatchNorm in the mlp walk, the divergence guard's
// rollback and zero-variance message, and checkpoints that carry the AdamW / SGD moments, all run by
// the backend's PlanExecutor and BackendTrainer on HostOps and checked against the CPU core's Model and
// Trainer. These run without a GPU: everything of the backend except the kernels themselves.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "exec/backend_trainer.h"
#include "testing.h"
#include "exec/host_ops.h"
#include "model.h"
#include "conv_index.h"  // cpp/cuda/ops: the kernels' index arithmetic, a plain header
#include "ops/ops.h"
#include "exec/plan_executor.h"
#include "rng.h"
#include "trainer.h"

using namespace resnorm;
using namespace resnorm_test;

namespace {

const std::string& corpus(const Config& c) {
  static const std::string none;
  return c.is_gpt() ? shakespeare() : c.is_cnn() ? digits_asset() : none;
}

// Model and a PlanExecutor on HostOps, one forward and backward on the same batch, in BatchNorm's
// training mode when `train`: loss, probabilities, every gradient slice and the running statistics.
void compare_walk_bn(const ModelConfig& mc, int vocab, int B, const std::vector<float>& x, const std::vector<int>& y,
                     bool train) {
  Model ref(mc, vocab, B);
  ref.init(11);
  perturb(ref.params(), ref.slices());
  for (const Slice& s : ref.buffer_slices())  // running statistics off their initial 0 / 1
    for (size_t i = 0; i < s.size && !s.i64; ++i) ref.buffers()[s.offset + i] += 0.1f * static_cast<float>(i % 3) + 0.05f;
  HostOps ops;
  PlanExecutor ex(ops, mc, vocab, B);
  std::copy(ref.params(), ref.params() + ref.num_params(), ex.params());
  std::copy(ref.buffers(), ref.buffers() + ref.plan().num_bufs, ex.buffers());
  ref.set_training(train);
  ref.zero_grad();
  const double loss_ref = ref.forward(x.data(), nullptr, y.data(), B, 1);
  ref.backward();
  ex.set_training(train);
  ex.set_batch(x.data(), nullptr, y.data(), B, 1, false);
  double loss = 0.0;
  ex.forward(&loss);
  ops.zero(ex.grads(), sizeof(float) * ref.num_params());
  ex.backward();
  INFO(to_string(mc.kind) << ": " << to_string(mc.residual) << " x " << to_string(mc.norm) << " x "
                          << to_string(mc.placement) << (train ? " (train)" : " (eval)"));
  CHECK(loss == Approx(loss_ref).epsilon(1e-6));
  const size_t np = static_cast<size_t>(B) * vocab;
  for (size_t i = 0; i < np; ++i) REQUIRE(ex.probs()[i] == Approx(ref.probs()[i]).margin(1e-6));
  for (const Slice& s : ref.slices()) {
    float scale = 1e-12f;
    for (size_t i = 0; i < s.size; ++i) scale = std::max(scale, std::fabs(ref.grads()[s.offset + i]));
    double worst = 0.0;
    for (size_t i = 0; i < s.size; ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(ex.grads()[s.offset + i]) - ref.grads()[s.offset + i]) / scale);
    INFO("gradient of " << s.name);
    CHECK(worst < 1e-5);
  }
  for (size_t i = 0; i < ref.plan().num_bufs; ++i) REQUIRE(ex.buffers()[i] == Approx(ref.buffers()[i]).epsilon(1e-6));
}

ModelConfig small_cnn(Residual r, NormKind n, Placement p) {
  ModelConfig mc;
  mc.kind = ModelKind::Cnn;
  mc.depth = 1;
  mc.width = 4;
  mc.image = 8;
  mc.activation = Activation::Relu;
  mc.residual = r;
  mc.norm = n;
  mc.placement = p;
  return mc;
}

// The CPU Trainer and the BackendTrainer on HostOps, `steps` steps from the same seed: every statistic,
// at the end the parameters and BatchNorm's running statistics, and (with eval) the evaluation; a
// cnn's evaluation runs all 10,000 digits through both trainers, so only some runs take it.
void compare_train(const Config& cfg, int steps, double tol, bool eval = true) {
  Trainer cpu(cfg, corpus(cfg));
  BackendTrainer be(std::make_unique<HostOps>(), cfg, corpus(cfg));
  for (int k = 0; k < steps; ++k) {
    const StepStats a = cpu.step();
    const StepStats& b = be.step();
    INFO("step " << k + 1 << ": " << to_string(cfg.model.residual) << " x " << to_string(cfg.model.norm) << " x "
                 << to_string(cfg.model.placement));
    REQUIRE(a.diverged == b.diverged);
    CHECK(a.divergence == b.divergence);
    if (std::isfinite(a.loss)) CHECK(b.loss == Approx(a.loss).epsilon(tol));
    if (a.diverged) continue;
    CHECK(b.grad_norm == Approx(a.grad_norm).epsilon(tol));
    REQUIRE(a.block_grad_norm.size() == b.block_grad_norm.size());
    for (size_t i = 0; i < a.block_grad_norm.size(); ++i) {
      CHECK(b.block_grad_norm[i] == Approx(a.block_grad_norm[i]).epsilon(tol).margin(1e-9));
      CHECK(b.block_act_rms[i] == Approx(a.block_act_rms[i]).epsilon(tol));
      CHECK(b.update_ratio[i] == Approx(a.update_ratio[i]).epsilon(tol).margin(1e-9));
    }
  }
  be.sync_to_host();
  const Model& hm = be.host().model();
  for (size_t i = 0; i < hm.num_params(); ++i) REQUIRE(hm.params()[i] == Approx(cpu.model().params()[i]).margin(1e-5));
  for (size_t i = 0; i < hm.plan().num_bufs; ++i) REQUIRE(hm.buffers()[i] == Approx(cpu.model().buffers()[i]).margin(1e-5));
  if (!eval) return;
  const EvalStats ea = cpu.evaluate(), eb = be.evaluate();
  REQUIRE(std::isfinite(ea.val_loss) == std::isfinite(eb.val_loss));
  if (!std::isfinite(ea.val_loss)) return;
  CHECK(eb.val_loss == Approx(ea.val_loss).epsilon(10 * tol));
  CHECK(eb.accuracy == Approx(ea.accuracy).margin(0.002));
}

Config small_digits(Residual r, NormKind n, Placement p) {
  Config c = preset("cnn-digits");
  c.model.width = 4;
  c.model.residual = r;
  c.model.norm = n;
  c.model.placement = p;
  c.optim.batch = 16;
  c.data.resolution = 14;
  c.model.image = 14;
  return c;
}

}  // namespace

TEST_CASE("backend walk on host ops equals Model for every cnn block setting (train and eval)", "[backend]") {
  const int B = 3, H = 8;
  Rng r(9, 9);
  std::vector<float> img(static_cast<size_t>(B) * H * H);
  for (auto& v : img) v = r.uniform();
  const std::vector<int> y = {3, 0, 9};
  for_each_setting(ModelKind::Cnn, [&](const Setting& s) {
    for (bool train : {true, false}) compare_walk_bn(small_cnn(s.residual, s.norm, s.placement), 10, B, img, y, train);
  });
}

TEST_CASE("backend walk on host ops equals Model: mlp with BatchNorm and the doubled residual", "[backend]") {
  const int B = 7;
  Rng r(5, 5);
  std::vector<float> pts(2 * B);
  for (auto& x : pts) x = r.normal();
  const std::vector<int> y = {0, 1, 1, 0, 1, 0, 0};
  for (NormKind norm : {NormKind::BatchNorm, NormKind::LayerNorm})
    for_each_setting(ModelKind::Mlp, norm, [&](const Setting& s) {
      for (bool train : {true, false}) {
        ModelConfig mc;
        mc.kind = ModelKind::Mlp;
        mc.depth = 3;
        mc.width = 12;
        mc.activation = Activation::Tanh;
        s.apply(mc);
        compare_walk_bn(mc, 2, B, pts, y, train);
      }
    });
}

TEST_CASE("backend trainer on host ops takes the CPU trainer's cnn steps (post/pre x batchnorm/layernorm x identity/doubled)",
          "[backend]") {
  REQUIRE(!digits_asset().empty());
  for (Placement pl : kCnnPlacements)
    for (NormKind n : {NormKind::BatchNorm, NormKind::LayerNorm})
      for (Residual r : {Residual::Identity, Residual::Doubled})  // evaluation (eval-mode BatchNorm) in two of them
        compare_train(small_digits(r, n, pl), 10, 1e-4, r == Residual::Identity && pl == Placement::Post);
  // the other residuals and norms, fewer steps
  compare_train(small_digits(Residual::ReZero, NormKind::RmsNorm, Placement::Pre), 4, 1e-4, false);
  compare_train(small_digits(Residual::None, NormKind::None, Placement::Post), 4, 1e-4, false);
}

TEST_CASE("backend trainer on host ops: mlp with BatchNorm and the doubled residual, and a gpt with doubled", "[backend]") {
  // SGD: with BatchNorm after every stream position, the stem's bias has a zero gradient in exact
  // arithmetic (a constant shift is normalised away), so its gradient is rounding noise, which AdamW
  // scales up to lr-sized steps: CPU and backend then part after two steps while both are right.
  // SGD keeps noise noise-sized. (The cnn's convs have no bias, so its runs above use AdamW.)
  Config c = preset("mlp-spiral");
  c.model.norm = NormKind::BatchNorm;
  c.optim.name = OptimName::Sgd;
  c.optim.lr = 0.05;
  compare_train(c, 15, 1e-4);
  c.model.residual = Residual::Doubled;
  c.model.placement = Placement::Post;
  compare_train(c, 10, 1e-4);
  Config g = preset("gpt-tiny");
  g.model.depth = 2;
  g.model.width = 16;
  g.model.context = 8;
  g.optim.batch = 2;
  g.eval.batches = 1;
  g.model.residual = Residual::Doubled;
  compare_train(g, 5, 1e-4);
}

TEST_CASE("backend trainer on host ops: a diverged BatchNorm step rolls the running statistics back", "[backend]") {
  Config c = small_digits(Residual::Identity, NormKind::BatchNorm, Placement::Post);
  c.optim.lr = 1e30;
  c.optim.clip = 0;
  Trainer cpu(c, corpus(c));
  BackendTrainer be(std::make_unique<HostOps>(), c, corpus(c));
  int diverged = 0;
  for (int k = 0; k < 6; ++k) {
    const StepStats a = cpu.step();
    const StepStats& b = be.step();
    REQUIRE(a.diverged == b.diverged);
    CHECK(a.divergence == b.divergence);
    diverged += b.diverged;
    be.sync_to_host();
    const Model& hm = be.host().model();
    for (size_t i = 0; i < hm.plan().num_bufs; ++i)
      REQUIRE(hm.buffers()[i] == Approx(cpu.model().buffers()[i]).margin(1e-4).epsilon(1e-4));
    if (b.diverged) {  // the count of batches tracked did not move either
      const Slice* cnt = nullptr;
      for (const Slice& s : hm.buffer_slices())
        if (s.i64) cnt = &s;
      REQUIRE(cnt);
      CHECK(hm.buffers()[cnt->offset] == static_cast<float>(k - diverged + 1));
    }
  }
  CHECK(diverged > 0);
}

TEST_CASE("backend trainer on host ops: eps = 0 names the zero-variance norm as the CPU trainer does", "[backend]") {
  Config c = config_from_string(R"({"model": {"kind": "mlp", "depth": 3, "width": 8, "norm": "layernorm",
                                    "placement": "pre", "eps": 0}, "optim": {"batch": 16}})");
  Trainer cpu(c);
  BackendTrainer be(std::make_unique<HostOps>(), c);
  for (Model* m : {&cpu.model(), &be.host().model()}) {
    std::fill(m->params() + m->find("stem.weight")->offset, m->params() + m->find("stem.weight")->offset + 16, 0.0f);
    std::fill(m->params() + m->find("stem.bias")->offset, m->params() + m->find("stem.bias")->offset + 8, 0.5f);
  }
  std::copy(be.host().model().params(), be.host().model().params() + be.num_params(), be.executor().params());
  const StepStats a = cpu.step();
  const StepStats& b = be.step();
  INFO(b.divergence);
  CHECK(b.diverged);
  CHECK(b.divergence == a.divergence);
  CHECK(b.divergence.find("division by zero variance in blocks.0.mlp.norm_in (block 0)") != std::string::npos);
}

namespace {
// Runs `total` steps uninterrupted, and `at` steps + save(with state) + load into a fresh trainer +
// the rest; the two runs must agree bit for bit (losses, parameters, moments via a second save).
void check_resume(const Config& c, int at, int total) {
  BackendTrainer full(std::make_unique<HostOps>(), c, corpus(c));
  std::vector<double> want;
  for (int k = 0; k < total; ++k) want.push_back(full.step().loss);
  BackendTrainer first(std::make_unique<HostOps>(), c, corpus(c));
  for (int k = 0; k < at; ++k) REQUIRE(first.step().loss == want[static_cast<size_t>(k)]);
  const std::vector<uint8_t> bytes = first.save(true);
  BackendTrainer resumed(std::make_unique<HostOps>(), c, corpus(c));
  resumed.load(bytes.data(), bytes.size());
  REQUIRE(resumed.steps_done() == at);
  for (int k = at; k < total; ++k) {
    INFO("step " << k + 1);
    REQUIRE(resumed.step().loss == want[static_cast<size_t>(k)]);
  }
  CHECK(resumed.save(true) == full.save(true));  // parameters, buffers, moments, update count, batch position
  // Without the moments the resumed run differs (the optimiser restarts): the test can tell.
  BackendTrainer fresh(std::make_unique<HostOps>(), c, corpus(c));
  const std::vector<uint8_t> plain = first.save(false);
  fresh.load(plain.data(), plain.size());
  bool same = true;
  for (int k = at; k < total; ++k) same = same && fresh.step().loss == want[static_cast<size_t>(k)];
  CHECK_FALSE(same);
}
}  // namespace

TEST_CASE("backend checkpoints carry the optimiser moments: a resumed run continues exactly", "[backend]") {
  check_resume(small_digits(Residual::Identity, NormKind::BatchNorm, Placement::Post), 10, 16);
  Config m = preset("mlp-spiral");
  check_resume(m, 10, 20);
  m.optim.name = OptimName::Sgd;
  check_resume(m, 10, 20);
}

TEST_CASE("backend checkpoints with moments use the CPU core's names both ways", "[backend]") {
  Config c = preset("mlp-spiral");
  BackendTrainer be(std::make_unique<HostOps>(), c);
  Trainer cpu(c);
  for (int k = 0; k < 10; ++k) {
    be.step();
    cpu.step();
  }
  // backend -> CPU: the CPU trainer takes the moments and continues as its own uninterrupted run does
  const std::vector<uint8_t> bytes = be.save(true);
  const std::string text(bytes.begin(), bytes.end());
  CHECK(text.find("optim.exp_avg.stem.weight") != std::string::npos);
  CHECK(text.find("optim.exp_avg_sq.head.bias") != std::string::npos);
  Trainer resumed(c);
  resumed.load(bytes.data(), bytes.size());
  for (int k = 0; k < 5; ++k) CHECK(resumed.step().loss == Approx(cpu.step().loss).epsilon(1e-5));
  // CPU -> backend
  const std::vector<uint8_t> cb = cpu.save(true);
  BackendTrainer be2(std::make_unique<HostOps>(), c);
  be2.load(cb.data(), cb.size());
  for (int k = 0; k < 5; ++k) CHECK(be2.step().loss == Approx(cpu.step().loss).epsilon(1e-5));
}

TEST_CASE("the CUDA conv kernels' index arithmetic (ops/conv_index.h), run on the host, equals the CPU core's conv2d",
          "[backend]") {
  // conv2d.cu's im2col and col2im kernels compute each element with these functions; here they fill
  // the columns and gather the input gradient on the CPU, around the core's GEMM (linear.cpp).
  struct Shape { int B, H, IC, OC, K, S; };
  const Shape shapes[] = {{3, 14, 1, 8, 3, 1}, {2, 14, 8, 16, 3, 2}, {2, 14, 8, 16, 1, 2}, {4, 7, 16, 16, 3, 1},
                          {1, 5, 3, 5, 3, 2}, {2, 6, 4, 4, 3, 2}};
  for (const Shape& s : shapes) {
    const int P = s.K / 2, Ho = conv2d_out_size(s.H, s.K, s.S, P), RL = s.IC * s.K * s.K, rows = s.B * Ho * Ho;
    INFO("B " << s.B << " H " << s.H << " IC " << s.IC << " OC " << s.OC << " K " << s.K << " S " << s.S);
    const size_t ni = static_cast<size_t>(s.B) * s.H * s.H * s.IC, no = static_cast<size_t>(rows) * s.OC;
    const size_t ncol = static_cast<size_t>(rows) * RL;
    auto in = random_vec(ni, 1), w = random_vec(static_cast<size_t>(s.OC) * RL, 2, 0.2f);
    std::vector<float> ref(no), scratch(2 * ncol), cols(ncol), out(no);
    conv2d_forward(ref.data(), scratch.data(), in.data(), w.data(), s.B, s.H, s.H, s.IC, s.OC, s.K, s.S, P);
    for (size_t i = 0; i < ncol; ++i) cols[i] = cuda::im2col_element(in.data(), i, s.H, s.IC, s.K, s.S, P, Ho);
    linear_forward(out.data(), cols.data(), w.data(), nullptr, rows, RL, s.OC);
    CHECK(out == ref);  // the same columns through the same GEMM: bit for bit
    auto dy = random_vec(no, 3), din_ref = random_vec(ni, 4), dw_ref = random_vec(w.size(), 5);
    std::vector<float> din = din_ref, dw = dw_ref, dcols(ncol, 0.0f);
    conv2d_backward(din_ref.data(), dw_ref.data(), scratch.data(), scratch.data() + ncol, dy.data(), in.data(), w.data(),
                    s.B, s.H, s.H, s.IC, s.OC, s.K, s.S, P);
    linear_backward(dcols.data(), dw.data(), nullptr, dy.data(), cols.data(), w.data(), rows, RL, s.OC);
    for (size_t i = 0; i < ni; ++i) din[i] += cuda::col2im_element(dcols.data(), i, s.H, s.IC, s.K, s.S, P, Ho);
    CHECK(dw == dw_ref);
    CHECK(scaled_err(din, din_ref) < 1e-6);  // the gather sums in (kh, kw) order, the core's scatter in (oh, ow)
  }
}

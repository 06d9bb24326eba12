// [backend]: the plan executor's model walk (fusions included), train step, statistics, guard and
// checkpoints (cpp/core/exec), run with HostOps (the CPU core's ops) against the core's Model and
// Trainer. The CUDA backend is that executor over DeviceOps, so these check everything of it but the
// kernels, in every build (no nvcc, no GPU).
#include <catch2/catch.hpp>

#include <cmath>

#include "exec/backend_trainer.h"
#include "testing.h"
#include "exec/host_ops.h"
#include "model.h"
#include "exec/plan_executor.h"
#include "rng.h"
#include "trainer.h"

using namespace resnorm;
using namespace resnorm_test;
using resnorm_test::shakespeare;

namespace {


// Worst |a - b| / max(|a|, |b|, floor) over n elements.
double rel_err(const float* a, const float* b, size_t n, double floor) {
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    worst = std::max(worst, d / std::max({std::fabs(static_cast<double>(a[i])), std::fabs(static_cast<double>(b[i])), floor}));
  }
  return worst;
}

// Runs Model and a PlanExecutor on HostOps on the same batch; compares loss, probabilities and every
// gradient slice (relative to the slice's largest gradient).
void compare_walk(const ModelConfig& mc, int vocab, int B, int T, const std::vector<float>& pts,
                  const std::vector<int>& tok, const std::vector<int>& tgt) {
  const int rows = B * T;
  Model ref(mc, vocab, rows);
  ref.init(11);
  perturb(ref.params(), ref.slices());
  ref.zero_grad();
  const double loss_ref = ref.forward(pts.data(), tok.data(), tgt.data(), B, T);
  ref.backward();

  HostOps ops;
  PlanExecutor ex(ops, mc, vocab, rows);
  std::copy(ref.params(), ref.params() + ref.num_params(), ex.params());
  ex.set_batch(pts.data(), tok.data(), tgt.data(), B, T, true);
  double loss = 0.0;
  ex.forward(&loss);
  ops.zero(ex.grads(), sizeof(float) * ref.num_params());
  ex.backward();

  INFO(to_string(mc.kind) << ": " << to_string(mc.residual) << " x " << to_string(mc.norm) << " x "
                          << to_string(mc.placement));
  CHECK(loss == Approx(loss_ref).epsilon(1e-6));
  CHECK(rel_err(ex.probs(), ref.probs(), static_cast<size_t>(rows) * vocab, 1e-6) < 1e-5);
  for (const Slice& s : ref.slices()) {
    float scale = 1e-12f;
    for (size_t i = 0; i < s.size; ++i) scale = std::max(scale, std::fabs(ref.grads()[s.offset + i]));
    double worst = 0.0;
    for (size_t i = 0; i < s.size; ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(ex.grads()[s.offset + i]) - ref.grads()[s.offset + i]) / scale);
    INFO("gradient of " << s.name);
    CHECK(worst < 1e-5);
  }
}

void compare_steps(const Config& cfg, int steps, double tol) {
  const std::string text = cfg.is_gpt() ? shakespeare() : "";
  Trainer cpu(cfg, text);
  BackendTrainer be(std::make_unique<HostOps>(), cfg, text);
  for (int k = 0; k < steps; ++k) {
    const StepStats a = cpu.step();
    const StepStats& b = be.step();
    INFO("step " << k + 1);
    REQUIRE(a.diverged == b.diverged);
    CHECK(a.divergence == b.divergence);
    if (std::isfinite(a.loss)) CHECK(b.loss == Approx(a.loss).epsilon(tol));
    CHECK(b.lr == a.lr);
    if (a.diverged) continue;
    CHECK(b.grad_norm == Approx(a.grad_norm).epsilon(tol));
    for (size_t i = 0; i < a.block_grad_norm.size(); ++i) {
      CHECK(b.block_grad_norm[i] == Approx(a.block_grad_norm[i]).epsilon(tol).margin(1e-9));
      CHECK(b.block_act_rms[i] == Approx(a.block_act_rms[i]).epsilon(tol));
      if (std::isfinite(a.update_ratio[i]))
        CHECK(b.update_ratio[i] == Approx(a.update_ratio[i]).epsilon(tol).margin(1e-9));
      else
        CHECK(!std::isfinite(b.update_ratio[i]));
    }
    REQUIRE(a.attn_entropy.size() == b.attn_entropy.size());
    for (size_t i = 0; i < a.attn_entropy.size(); ++i) CHECK(b.attn_entropy[i] == Approx(a.attn_entropy[i]).epsilon(tol));
  }
  const EvalStats ea = cpu.evaluate(), eb = be.evaluate();
  REQUIRE(std::isfinite(ea.val_loss) == std::isfinite(eb.val_loss));
  if (!std::isfinite(ea.val_loss)) return;
  CHECK(eb.val_loss == Approx(ea.val_loss).epsilon(10 * tol));
  CHECK(eb.train_loss == Approx(ea.train_loss).epsilon(10 * tol));
  CHECK(eb.accuracy == Approx(ea.accuracy).margin(0.01));
}

}  // namespace

TEST_CASE("token buckets group rows by token, in row order", "[backend]") {
  const std::vector<int> tok = {3, 1, 3, 0, 1, 3};
  std::vector<int> rows(tok.size()), start(5);
  make_token_buckets(tok.data(), 6, 4, rows.data(), start.data());
  CHECK(start == std::vector<int>({0, 1, 3, 3, 6}));
  CHECK(rows == std::vector<int>({3, 1, 4, 0, 2, 5}));
}

TEST_CASE("chunk tables cover each segment in order", "[backend]") {
  std::vector<ChunkInfo> c;
  std::vector<uint32_t> first;
  make_chunks({{10, 3 * kChunkElems + 5, 1}, {0, 7, 0}, {50, 0, 0}}, c, first);
  REQUIRE(first == std::vector<uint32_t>({0, 4, 5, 5}));
  CHECK(c[0].begin == 10);
  CHECK(c[3].begin == 10 + 3 * kChunkElems);
  CHECK(c[3].len == 5);
  CHECK(c[3].flags == 1);
  CHECK(c[4].seg == 1);
  CHECK(c[4].len == 7);
}

TEST_CASE("backend walk on host ops equals Model for every mlp block setting", "[backend]") {
  const int B = 7;
  Rng r(5, 5);
  std::vector<float> pts(2 * B);
  for (auto& x : pts) x = r.normal();
  const std::vector<int> y = {0, 1, 1, 0, 1, 0, 0};
  for_each_setting(ModelKind::Mlp, [&](const Setting& s) {
    ModelConfig mc;
    mc.kind = ModelKind::Mlp;
    mc.depth = 3;
    mc.width = 12;
    mc.activation = Activation::Tanh;
    s.apply(mc);
    compare_walk(mc, 2, B, 1, pts, {}, y);
  });
}

TEST_CASE("backend walk on host ops equals Model for every gpt block setting", "[backend]") {
  const int B = 2, T = 5, V = 11;
  Rng r(6, 6);
  std::vector<int> tok(B * T), tgt(B * T);
  for (auto& t : tok) t = static_cast<int>(r.below(V));
  for (auto& t : tgt) t = static_cast<int>(r.below(V));
  for_each_setting(ModelKind::Gpt, [&](const Setting& s) {
    ModelConfig mc;
    mc.kind = ModelKind::Gpt;
    mc.depth = 2;
    mc.width = 8;
    mc.heads = 2;
    mc.context = 6;
    s.apply(mc);
    compare_walk(mc, V, B, T, {}, tok, tgt);
  });
}

TEST_CASE("backend trainer on host ops takes the CPU trainer's steps (mlp presets)", "[backend]") {
  compare_steps(preset("mlp-spiral"), 20, 1e-4);
  Config c = preset("mlp-residual-deep");
  c.optim.name = OptimName::Sgd;
  c.optim.weight_decay = 0.01;
  compare_steps(c, 10, 1e-4);
  Config d = preset("mlp-spiral");
  d.model.residual = Residual::ReZero;
  d.model.norm = NormKind::RmsNorm;
  d.model.placement = Placement::Sandwich;
  compare_steps(d, 10, 1e-4);
}

TEST_CASE("backend trainer on host ops takes the CPU trainer's steps (gpt)", "[backend]") {
  Config c = preset("gpt-tiny");
  c.model.depth = 2;
  c.model.width = 32;
  c.model.context = 16;
  c.optim.batch = 4;
  c.eval.batches = 2;
  compare_steps(c, 20, 1e-4);
  c.model.placement = Placement::Post;
  c.model.residual = Residual::DeepNorm;
  compare_steps(c, 5, 1e-4);
}

TEST_CASE("backend trainer on host ops reports divergence as the CPU trainer does", "[backend]") {
  Config c = preset("mlp-plain-deep");
  c.optim.lr = 1e30;
  c.optim.warmup = 0;
  c.optim.clip = 0;
  compare_steps(c, 6, 1e-4);
}

TEST_CASE("backend trainer checkpoints load into the CPU trainer and back", "[backend]") {
  Config c = preset("gpt-tiny");
  c.model.depth = 1;
  c.model.width = 16;
  c.model.context = 8;
  c.optim.batch = 2;
  const std::string text = shakespeare();
  BackendTrainer be(std::make_unique<HostOps>(), c, text);
  for (int k = 0; k < 3; ++k) be.step();
  const std::vector<uint8_t> bytes = be.save();
  Trainer cpu(c, text);
  cpu.load(bytes.data(), bytes.size());
  CHECK(cpu.steps_done() == 3);
  be.sync_to_host();
  const Model& hm = be.host().model();
  for (size_t i = 0; i < hm.num_params(); ++i) REQUIRE(cpu.model().params()[i] == hm.params()[i]);
  BackendTrainer be2(std::make_unique<HostOps>(), c, text);
  be2.load(bytes.data(), bytes.size());
  CHECK(be2.steps_done() == 3);
  CHECK(be2.save() == bytes);
}

// [cuda]: the whole CUDA model and trainer against the CPU core: loss, probabilities and every
// gradient for all block settings (residual x norm x placement, mlp and gpt, doubled included); 20 AdamW steps of the
// mlp-spiral and gpt-tiny presets (losses within 1e-3 absolute; the steps compound float differences
// through AdamW); CUDA graphs against eager execution and run-to-run determinism (bit-identical);
// checkpoints across backends; and the refusal of a config too large for the device.
#include <catch2/catch.hpp>


#include "cuda_testing.h"
#include "error.h"
#include "exec/plan_executor.h"
#include "trainer.h"

using namespace resnorm;
using namespace resnorm_test;

namespace {

// The CUDA executor against Model on one batch: loss, probabilities, every gradient slice.
void compare_model(const ModelConfig& mc, int vocab, int B, int T, const std::vector<float>& pts,
                   const std::vector<int>& tok, const std::vector<int>& tgt) {
  const int rows = B * T;
  Model ref(mc, vocab, rows);
  ref.init(11);
  perturb(ref.params(), ref.slices());
  ref.zero_grad();
  const double loss_ref = ref.forward(pts.data(), tok.data(), tgt.data(), B, T);
  ref.backward();

  auto ops = make_device_ops();
  PlanExecutor ex(*ops, mc, vocab, rows);
  ops->upload(ex.params(), ref.params(), sizeof(float) * ref.num_params());
  ex.set_batch(pts.data(), tok.data(), tgt.data(), B, T, true);
  auto* loss_dev = static_cast<double*>(ops->alloc(sizeof(double)));
  ex.forward(loss_dev);
  ops->zero(ex.grads(), sizeof(float) * ref.num_params());
  ex.backward();
  double loss = 0;
  ops->download(&loss, loss_dev, sizeof loss);
  ops->release(loss_dev);
  std::vector<float> probs(static_cast<size_t>(rows) * vocab), grads(ref.num_params());
  ops->download(probs.data(), ex.probs(), sizeof(float) * probs.size());
  ops->download(grads.data(), ex.grads(), sizeof(float) * grads.size());

  INFO(to_string(mc.kind) << ": " << to_string(mc.residual) << " x " << to_string(mc.norm) << " x "
                          << to_string(mc.placement));
  CHECK(loss == Approx(loss_ref).epsilon(1e-5));
  CHECK(scaled_err(probs, std::vector<float>(ref.probs(), ref.probs() + probs.size())) < 1e-5);
  for (const Slice& s : ref.slices()) {
    INFO("gradient of " << s.name);
    const std::vector<float> a(grads.begin() + s.offset, grads.begin() + s.offset + s.size);
    const std::vector<float> b(ref.grads() + s.offset, ref.grads() + s.offset + s.size);
    CHECK(scaled_err(a, b, 1e-9) < 1e-4);
  }
}

void compare_training(const Config& cfg, int steps, double loss_tol) {
  const std::string text = cfg.is_gpt() ? shakespeare() : "";
  Trainer cpu(cfg, text);
  auto gpu = make_cuda_trainer(cfg, text);
  for (int k = 0; k < steps; ++k) {
    const StepStats a = cpu.step();
    const StepStats& b = gpu->step();
    INFO("step " << k + 1 << ": cpu loss " << a.loss << ", gpu loss " << b.loss);
    REQUIRE(a.diverged == b.diverged);
    CHECK(std::fabs(b.loss - a.loss) < loss_tol);
    CHECK(b.lr == a.lr);
    CHECK(b.grad_norm == Approx(a.grad_norm).epsilon(1e-2));
    for (size_t i = 0; i < a.block_act_rms.size(); ++i) CHECK(b.block_act_rms[i] == Approx(a.block_act_rms[i]).epsilon(1e-2));
    for (size_t i = 0; i < a.attn_entropy.size(); ++i) CHECK(b.attn_entropy[i] == Approx(a.attn_entropy[i]).epsilon(1e-2));
  }
  const EvalStats ea = cpu.evaluate(), eb = gpu->evaluate();
  CHECK(std::fabs(eb.val_loss - ea.val_loss) < 10 * loss_tol);
  if (!cfg.is_gpt()) CHECK(eb.accuracy == Approx(ea.accuracy).margin(0.02));
}

}  // namespace

TEST_CASE("CUDA model equals the CPU model for every mlp block setting", "[cuda]") {
  const int B = 7;
  auto pts = random_vec(2 * B, 5);
  const std::vector<int> y = {0, 1, 1, 0, 1, 0, 0};
  for_each_setting(ModelKind::Mlp, [&](const Setting& s) {
    ModelConfig mc;
    mc.kind = ModelKind::Mlp;
    mc.depth = 3;
    mc.width = 64;
    mc.activation = Activation::Tanh;
    s.apply(mc);
    compare_model(mc, 2, B, 1, pts, {}, y);
  });
}

TEST_CASE("CUDA model equals the CPU model for every gpt block setting", "[cuda]") {
  const int B = 3, T = 16, V = 65;
  const auto tok = random_ints(B * T, V, 6), tgt = random_ints(B * T, V, 7);
  for_each_setting(ModelKind::Gpt, [&](const Setting& s) {
    ModelConfig mc;
    mc.kind = ModelKind::Gpt;
    mc.depth = 2;
    mc.width = 32;
    mc.heads = 4;
    mc.context = T;
    s.apply(mc);
    compare_model(mc, V, B, T, {}, tok, tgt);
  });
}

TEST_CASE("20 AdamW steps on the GPU give the CPU's losses (mlp-spiral, gpt-tiny)", "[cuda]") {
  compare_training(preset("mlp-spiral"), 20, 1e-3);
  compare_training(preset("gpt-tiny"), 20, 1e-3);
}

TEST_CASE("odd shapes and every placement train on the GPU as on the CPU", "[cuda]") {
  Config c = preset("gpt-tiny");
  c.model.depth = 2;
  c.model.width = 36;  // C % 4 == 0 but C / H = 9: unaligned heads
  c.model.heads = 4;
  c.model.context = 13;  // odd rows: unaligned activation offsets take the scalar kernels
  c.optim.batch = 5;
  for (Placement pl : kPlacements) {
    c.model.placement = pl;
    c.model.norm = pl == Placement::Sandwich ? NormKind::RmsNorm : NormKind::LayerNorm;
    c.model.residual = pl == Placement::Post ? Residual::DeepNorm : Residual::ReZero;
    INFO(to_string(pl));
    compare_training(c, 5, 1e-3);
  }
  Config m = preset("mlp-residual-deep");
  m.optim.name = OptimName::Sgd;
  compare_training(m, 5, 1e-3);
}

TEST_CASE("CUDA graph replay equals eager execution, and runs are bit-identical", "[cuda]") {
  const Config cfg = preset("gpt-tiny");
  const std::string text = shakespeare();
  CudaOptions eager;
  eager.graphs = false;
  auto a = make_cuda_trainer(cfg, text, "", eager);
  auto b = make_cuda_trainer(cfg, text);
  auto c = make_cuda_trainer(cfg, text);
  for (int k = 0; k < 8; ++k) {
    const double la = a->step().loss, lb = b->step().loss, lc = c->step().loss;
    INFO("step " << k + 1);
    // The same kernels either way; cuBLAS may pick another algorithm inside a capture, hence 1e-6.
    CHECK(la == Approx(lb).epsilon(1e-6));
    CHECK(lb == lc);  // run to run: bit-identical (no floating-point atomics anywhere)
    CHECK(b->last().grad_norm == c->last().grad_norm);
  }
}

TEST_CASE("checkpoints move between the GPU and CPU trainers", "[cuda]") {
  Config c = preset("gpt-tiny");
  c.model.depth = 2;
  const std::string text = shakespeare();
  auto gpu = make_cuda_trainer(c, text);
  for (int k = 0; k < 3; ++k) gpu->step();
  const std::vector<uint8_t> bytes = gpu->save();
  Trainer cpu(c, text);
  cpu.load(bytes.data(), bytes.size());
  CHECK(cpu.steps_done() == 3);
  auto gpu2 = make_cuda_trainer(c, text);
  gpu2->load(bytes.data(), bytes.size());
  CHECK(gpu2->save() == bytes);
  const double lc = cpu.step().loss, lg = gpu2->step().loss;
  CHECK(std::fabs(lc - lg) < 1e-4);
}

TEST_CASE("a config too large for the device is refused before anything is allocated", "[cuda]") {
  Config c;  // built directly: config_from_json would already refuse it at its own 8 GiB cap
  c.model.kind = ModelKind::Gpt;
  c.model.depth = 64;
  c.model.width = 4096;
  c.model.heads = 32;
  c.model.context = 1024;
  c.optim.batch = 512;
  const CudaDeviceInfo before = cuda_device_info();
  REQUIRE(before.present());
  try {
    make_cuda_trainer(c, "abcdefgh");
    FAIL("the config was accepted");
  } catch (const Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("GPU memory") != std::string::npos);
    CHECK(msg.find(before.name) != std::string::npos);
    CHECK(msg.find("MiB free") != std::string::npos);
    CHECK(msg.find("optim.batch") != std::string::npos);
  }
  const CudaDeviceInfo after = cuda_device_info();
  CHECK(after.free_bytes + (64u << 20) >= before.free_bytes);  // nothing (beyond the driver's noise) was taken
}

// [cuda] for issue 11 and 12: the cnn ops on the GPU (conv2d as im2col + cuBLAS, global average
// pooling, BatchNorm in train and eval mode with its running statistics, the doubled residual plain
// and fused, the guard's rollback of the running statistics) against the CPU core's ops; the CUDA cnn
// plan against Model for every cnn block setting, and the mlp with BatchNorm; cnn training steps against the CPU trainer; and a
// resumed run from a checkpoint with the AdamW moments continuing bit for bit. Tolerances as
// test_cuda_ops.cpp (1e-5 elementwise / per-channel, 1e-4 GEMM-based, 1e-3 absolute on losses over steps).
#include <catch2/catch.hpp>

#include <cstring>

#include "cuda_testing.h"
#include "exec/host_ops.h"
#include "ops/ops.h"
#include "exec/plan_executor.h"
#include "trainer.h"

using namespace resnorm;
using namespace resnorm_test;

namespace {

// Sizes the device ops' scratch (im2col columns included) for convs on H x H images with up to
// `width` channels and B images: a cnn plan of that image side and width holds the largest such conv.
void reserve_cnn(Dev& d, int H, int width, int B) {
  ModelConfig mc;
  mc.kind = ModelKind::Cnn;
  mc.depth = 1;
  mc.width = width;
  mc.image = H;
  mc.norm = NormKind::BatchNorm;
  d.ops->reserve(make_plan(mc, 10, B), B);
}

ModelConfig cnn_config(Residual r, NormKind n, Placement p, int width = 8, int image = 10) {
  ModelConfig mc;
  mc.kind = ModelKind::Cnn;
  mc.depth = 1;
  mc.width = width;
  mc.image = image;
  mc.activation = Activation::Relu;
  mc.residual = r;
  mc.norm = n;
  mc.placement = p;
  return mc;
}

Config digits_config(Residual r, NormKind n, Placement p) {
  Config c = preset("cnn-digits");
  c.model.width = 8;
  c.model.residual = r;
  c.model.norm = n;
  c.model.placement = p;
  c.optim.batch = 32;
  return c;
}

}  // namespace

TEST_CASE("conv2d forward and backward (im2col + cuBLAS) match the CPU core", "[cuda]") {
  struct Shape { int B, H, IC, OC, K, S; };
  const Shape shapes[] = {{3, 14, 1, 8, 3, 1}, {2, 14, 8, 16, 3, 2}, {2, 14, 8, 16, 1, 2}, {4, 7, 16, 16, 3, 1},
                          {1, 5, 3, 5, 3, 2}, {64, 14, 16, 16, 3, 1}};
  for (const Shape& s : shapes) {
    const int P = s.K / 2, Ho = conv2d_out_size(s.H, s.K, s.S, P);
    INFO("B " << s.B << " H " << s.H << " IC " << s.IC << " OC " << s.OC << " K " << s.K << " S " << s.S);
    Dev d;
    reserve_cnn(d, s.H, std::max(s.IC, s.OC), s.B);
    const size_t ni = static_cast<size_t>(s.B) * s.H * s.H * s.IC, no = static_cast<size_t>(s.B) * Ho * Ho * s.OC;
    const size_t ncol = static_cast<size_t>(s.B) * Ho * Ho * s.IC * s.K * s.K;
    auto in = random_vec(ni, 1), w = random_vec(static_cast<size_t>(s.OC) * s.IC * s.K * s.K, 2, 0.2f);
    std::vector<float> out(no), cols(ncol), dcols(ncol);
    conv2d_forward(out.data(), cols.data(), in.data(), w.data(), s.B, s.H, s.H, s.IC, s.OC, s.K, s.S, P);
    float *gin = d.put(in), *gw = d.put(w), *gout = d.zeros(no);
    d.ops->conv2d_forward(gout, gin, gw, s.B, s.H, s.IC, s.OC, s.K, s.S, P);
    CHECK(scaled_err(d.get(gout, no), out) < 2e-5);

    auto dy = random_vec(no, 3), din = random_vec(ni, 4), dw = random_vec(w.size(), 5);
    float *gdin = d.put(din), *gdw = d.put(dw), *gdy = d.put(dy);
    conv2d_backward(din.data(), dw.data(), cols.data(), dcols.data(), dy.data(), in.data(), w.data(), s.B, s.H, s.H,
                    s.IC, s.OC, s.K, s.S, P);
    d.ops->conv2d_backward(gdin, gdw, gdy, gin, gw, s.B, s.H, s.IC, s.OC, s.K, s.S, P);
    CHECK(scaled_err(d.get(gdin, ni), din) < 2e-5);
    CHECK(scaled_err(d.get(gdw, dw.size()), dw) < 1e-4);
    // din null (the stem): only dw, which again adds
    d.ops->conv2d_backward(nullptr, gdw, gdy, gin, gw, s.B, s.H, s.IC, s.OC, s.K, s.S, P);
    conv2d_backward(nullptr, dw.data(), cols.data(), dcols.data(), dy.data(), in.data(), w.data(), s.B, s.H, s.H, s.IC,
                    s.OC, s.K, s.S, P);
    CHECK(scaled_err(d.get(gdw, dw.size()), dw) < 1e-4);
  }
}

TEST_CASE("global average pooling forward and backward match the CPU core", "[cuda]") {
  for (int HW : {1, 16, 49}) {
    const int B = 5, C = 12;
    INFO("HW " << HW);
    Dev d;
    d.reserve(C, B);
    auto in = random_vec(static_cast<size_t>(B) * HW * C, 1);
    std::vector<float> out(static_cast<size_t>(B) * C);
    global_avgpool_forward(out.data(), in.data(), B, HW, C);
    float* go = d.zeros(out.size());
    d.ops->global_avgpool_forward(go, d.put(in), B, HW, C);
    CHECK(scaled_err(d.get(go, out.size()), out) < 1e-6);
    auto dy = random_vec(out.size(), 2), din = random_vec(in.size(), 3);
    float* gdin = d.put(din);
    global_avgpool_backward(din.data(), dy.data(), B, HW, C);
    d.ops->global_avgpool_backward(gdin, d.put(dy), B, HW, C);
    CHECK(scaled_err(d.get(gdin, din.size()), din) < 1e-6);
  }
}

TEST_CASE("BatchNorm forward (train / eval, running statistics) and backward match the CPU core", "[cuda]") {
  for (int N : {2, 64, 3000})
    for (int C : {4, 16, 64})
      for (bool train : {true, false}) {
        INFO("N " << N << " C " << C << (train ? " train" : " eval"));
        Dev d;
        d.reserve(C, N);
        auto in = random_vec(static_cast<size_t>(N) * C, 1), w = random_vec(C, 2), b = random_vec(C, 3);
        for (auto& x : in) x = 0.5f + 2.0f * x;
        std::vector<float> running(2 * static_cast<size_t>(C) + 1, 0.0f);
        for (int c = 0; c < C; ++c) running[static_cast<size_t>(c)] = 0.1f * c, running[static_cast<size_t>(C + c)] = 1.0f + 0.05f * c;
        running[2 * static_cast<size_t>(C)] = 3.0f;
        float *grun = d.put(running), *gin = d.put(in), *gw = d.put(w), *gb = d.put(b);
        std::vector<float> out(in.size()), mean(C), rstd(C), scratch(2 * static_cast<size_t>(C));
        batchnorm_forward(out.data(), mean.data(), rstd.data(), running.data(), running.data() + C, in.data(), w.data(),
                          b.data(), N, C, 1e-5f, kBatchNormMomentum, train);
        if (train) running[2 * static_cast<size_t>(C)] += 1.0f;
        float *gout = d.zeros(out.size()), *gm = d.zeros(C), *gr = d.zeros(C);
        d.ops->batchnorm_forward(gout, gm, gr, grun, gin, gw, gb, N, C, 1e-5f, train);
        // Statistics over up to 3000 rows: the CPU sums in float, we in double (reductions: up to 1e-4).
        CHECK(scaled_err(d.get(gout, out.size()), out) < 1e-4);
        CHECK(scaled_err(d.get(gm, C), mean) < 1e-4);
        CHECK(scaled_err(d.get(gr, C), rstd) < 1e-4);
        CHECK(scaled_err(d.get(grun, running.size()), running) < 1e-4);
        auto dy = random_vec(in.size(), 4), din = random_vec(in.size(), 5), dw = random_vec(C, 6), db = random_vec(C, 7);
        float *gdin = d.put(din), *gdw = d.put(dw), *gdb = d.put(db);
        batchnorm_backward(din.data(), dw.data(), db.data(), scratch.data(), dy.data(), in.data(), w.data(), mean.data(),
                           rstd.data(), N, C);
        d.ops->batchnorm_backward(gdin, gdw, gdb, d.put(dy), gin, gw, gm, gr, N, C);
        CHECK(scaled_err(d.get(gdin, din.size()), din) < 1e-4);
        CHECK(scaled_err(d.get(gdw, C), dw) < 1e-4);
        CHECK(scaled_err(d.get(gdb, C), db) < 1e-4);
      }
}

TEST_CASE("the doubled residual, plain and fused with a norm, matches the CPU core", "[cuda]") {
  const int N = 37, C = 24;
  const size_t n = static_cast<size_t>(N) * C;
  Dev d;
  d.reserve(C, N);
  auto x = random_vec(n, 1), f = random_vec(n, 2), w = random_vec(C, 3), b = random_vec(C, 4);
  std::vector<float> y(n);
  residual_forward(y.data(), x.data(), f.data(), n, Residual::Doubled, 1.0f);
  float* gy = d.zeros(n);
  float *gx = d.put(x), *gf = d.put(f);
  d.ops->residual_forward(gy, gx, gf, n, Residual::Doubled, 1.0f, nullptr);
  CHECK(scaled_err(d.get(gy, n), y) == 0.0);  // f + f is exact
  auto dy = random_vec(n, 5), dx = random_vec(n, 6), df = random_vec(n, 7);
  float *gdx = d.put(dx), *gdf = d.put(df);
  residual_backward(dx.data(), df.data(), nullptr, dy.data(), f.data(), n, Residual::Doubled, 1.0f);
  d.ops->residual_backward(gdx, gdf, nullptr, d.put(dy), gf, n, Residual::Doubled, 1.0f, nullptr);
  CHECK(scaled_err(d.get(gdx, n), dx) == 0.0);
  CHECK(scaled_err(d.get(gdf, n), df) < 1e-6);
  // fused with LayerNorm: against the HostOps composition
  HostOps host;
  host.reserve(make_plan(ModelConfig{}, 2, N), N);
  std::vector<float> hy(n), ho(n), hm(N), hr(N);
  host.residual_norm_forward(NormKind::LayerNorm, hy.data(), ho.data(), hm.data(), hr.data(), x.data(), f.data(),
                             w.data(), b.data(), N, C, 1e-5f, Residual::Doubled, 1.0f, nullptr);
  float *g2y = d.zeros(n), *g2o = d.zeros(n), *g2m = d.zeros(N), *g2r = d.zeros(N), *gw = d.put(w), *gb = d.put(b);
  d.ops->residual_norm_forward(NormKind::LayerNorm, g2y, g2o, g2m, g2r, gx, gf, gw, gb, N, C, 1e-5f, Residual::Doubled,
                               1.0f, nullptr);
  CHECK(scaled_err(d.get(g2y, n), hy) == 0.0);
  CHECK(scaled_err(d.get(g2o, n), ho) < 1e-5);
  auto dn = random_vec(n, 8), dres = random_vec(n, 9), hdx = random_vec(n, 10), hdf = random_vec(n, 11);
  auto hdw = random_vec(C, 12), hdb = random_vec(C, 13);
  float *g3dx = d.put(hdx), *g3df = d.put(hdf), *g3dw = d.put(hdw), *g3db = d.put(hdb);
  host.residual_norm_backward(NormKind::LayerNorm, hdx.data(), hdf.data(), nullptr, hdw.data(), hdb.data(), dres.data(),
                              dn.data(), hy.data(), w.data(), hm.data(), hr.data(), f.data(), N, C, Residual::Doubled, 1.0f,
                              nullptr);
  d.ops->residual_norm_backward(NormKind::LayerNorm, g3dx, g3df, nullptr, g3dw, g3db, d.put(dres), d.put(dn), g2y, gw,
                                g2m, g2r, gf, N, C, Residual::Doubled, 1.0f, nullptr);
  CHECK(scaled_err(d.get(g3dx, n), hdx) < 1e-5);
  CHECK(scaled_err(d.get(g3df, n), hdf) < 1e-5);
  CHECK(scaled_err(d.get(g3dw, C), hdw) < 1e-4);
}

TEST_CASE("the guard's rollback restores the running statistics only after a bad step", "[cuda]") {
  Dev d;
  d.reserve(8, 8);
  auto cur = random_vec(33, 1), saved = random_vec(33, 2);
  for (int ok : {1, 0}) {
    StepScalars s;
    s.ok = ok;
    auto* gs = static_cast<StepScalars*>(d.ops->alloc(sizeof s));
    d.bufs.push_back(gs);
    d.ops->upload(gs, &s, sizeof s);
    float* gc = d.put(cur);
    d.ops->restore_unless_ok(gc, d.put(saved), cur.size(), gs);
    CHECK(d.get(gc, cur.size()) == (ok ? cur : saved));
  }
}

namespace {
// The CUDA executor against Model on one batch in BatchNorm's training mode (mlp points or cnn
// images): loss, every gradient slice and the running statistics after the forward.
void compare_plan_train(const ModelConfig& mc, int vocab, int B, const std::vector<float>& x, const std::vector<int>& y) {
  Model ref(mc, vocab, B);
  ref.init(11);
  perturb(ref.params(), ref.slices());
  std::vector<float> init_bufs(ref.buffers(), ref.buffers() + ref.plan().num_bufs);
  ref.set_training(true);
  ref.zero_grad();
  const double loss_ref = ref.forward(x.data(), nullptr, y.data(), B, 1);
  ref.backward();
  auto ops = make_device_ops();
  PlanExecutor ex(*ops, mc, vocab, B);
  ops->upload(ex.params(), ref.params(), sizeof(float) * ref.num_params());
  ops->upload(ex.buffers(), init_bufs.data(), sizeof(float) * init_bufs.size());
  ex.set_training(true);
  ex.set_batch(x.data(), nullptr, y.data(), B, 1, false);
  auto* loss_dev = static_cast<double*>(ops->alloc(sizeof(double)));
  ex.forward(loss_dev);
  ops->zero(ex.grads(), sizeof(float) * ref.num_params());
  ex.backward();
  double loss = 0;
  ops->download(&loss, loss_dev, sizeof loss);
  ops->release(loss_dev);
  std::vector<float> grads(ref.num_params()), bufs(ref.plan().num_bufs);
  ops->download(grads.data(), ex.grads(), sizeof(float) * grads.size());
  ops->download(bufs.data(), ex.buffers(), sizeof(float) * bufs.size());
  INFO(to_string(mc.kind) << ": " << to_string(mc.residual) << " x " << to_string(mc.norm) << " x " << to_string(mc.placement));
  CHECK(loss == Approx(loss_ref).epsilon(1e-5));
  for (const Slice& s : ref.slices()) {
    INFO("gradient of " << s.name);
    const std::vector<float> a(grads.begin() + s.offset, grads.begin() + s.offset + s.size);
    const std::vector<float> b(ref.grads() + s.offset, ref.grads() + s.offset + s.size);
    CHECK(scaled_err(a, b, 1e-9) < 1e-4);
  }
  if (!bufs.empty()) CHECK(scaled_err(bufs, std::vector<float>(ref.buffers(), ref.buffers() + bufs.size())) < 1e-5);
}
}  // namespace

TEST_CASE("CUDA cnn plan equals the CPU model for every cnn block setting (BatchNorm in train mode)", "[cuda]") {
  const int B = 4;
  const std::vector<int> y = {1, 7, 0, 9};
  for_each_setting(ModelKind::Cnn, [&](const Setting& s) {
    const ModelConfig mc = cnn_config(s.residual, s.norm, s.placement);
    compare_plan_train(mc, 10, B, random_vec(static_cast<size_t>(B) * mc.image * mc.image, 3), y);
  });
}

TEST_CASE("CUDA mlp with BatchNorm (every placement and residual) equals the CPU model in train mode", "[cuda]") {
  const int B = 9;
  const std::vector<int> y = {0, 1, 1, 0, 1, 0, 0, 1, 1};
  for_each_setting(ModelKind::Mlp, NormKind::BatchNorm, [&](const Setting& s) {
    ModelConfig mc;
    mc.kind = ModelKind::Mlp;
    mc.depth = 3;
    mc.width = 12;
    mc.activation = Activation::Tanh;
    s.apply(mc);
    compare_plan_train(mc, 2, B, random_vec(2 * B, 4), y);
  });
}

TEST_CASE("cnn training steps on the GPU give the CPU's losses (post/pre x batchnorm/layernorm x identity/doubled)",
          "[cuda]") {
  const std::string& digits = digits_asset();
  REQUIRE(!digits.empty());
  for (Placement pl : kCnnPlacements)
    for (NormKind n : {NormKind::BatchNorm, NormKind::LayerNorm})
      for (Residual r : {Residual::Identity, Residual::Doubled}) {
        const Config c = digits_config(r, n, pl);
        Trainer cpu(c, digits);
        auto gpu = make_cuda_trainer(c, digits);
        for (int k = 0; k < 10; ++k) {
          const StepStats a = cpu.step();
          const StepStats& b = gpu->step();
          INFO(to_string(r) << " x " << to_string(n) << " x " << to_string(pl) << ", step " << k + 1);
          REQUIRE(a.diverged == b.diverged);
          CHECK(std::fabs(b.loss - a.loss) < 1e-3);
          CHECK(b.grad_norm == Approx(a.grad_norm).epsilon(1e-2));
        }
        const EvalStats ea = cpu.evaluate(), eb = gpu->evaluate();
        CHECK(std::fabs(eb.val_loss - ea.val_loss) < 1e-2);
        CHECK(eb.accuracy == Approx(ea.accuracy).margin(0.02));
      }
}

TEST_CASE("cnn on the GPU: graphs equal eager, runs are bit-identical, a resumed run with moments continues exactly",
          "[cuda]") {
  const std::string& digits = digits_asset();
  const Config c = digits_config(Residual::Identity, NormKind::BatchNorm, Placement::Post);
  CudaOptions eager;
  eager.graphs = false;
  auto a = make_cuda_trainer(c, digits, "", eager);
  auto b = make_cuda_trainer(c, digits);
  auto full = make_cuda_trainer(c, digits);
  std::vector<double> want;
  for (int k = 0; k < 16; ++k) {
    const double la = a->step().loss, lb = b->step().loss, lf = full->step().loss;
    CHECK(la == Approx(lb).epsilon(1e-6));
    CHECK(lb == lf);
    want.push_back(lf);
  }
  auto first = make_cuda_trainer(c, digits);
  for (int k = 0; k < 10; ++k) REQUIRE(first->step().loss == want[static_cast<size_t>(k)]);
  const std::vector<uint8_t> bytes = first->save(true);
  auto resumed = make_cuda_trainer(c, digits);
  resumed->load(bytes.data(), bytes.size());
  for (int k = 10; k < 16; ++k) CHECK(resumed->step().loss == want[static_cast<size_t>(k)]);
  CHECK(resumed->save(true) == full->save(true));
  // and into the CPU trainer, which continues within float tolerance
  Trainer cpu(c, digits);
  cpu.load(bytes.data(), bytes.size());
  CHECK(std::fabs(cpu.step().loss - want[10]) < 1e-3);
}

TEST_CASE("on the GPU, a diverged BatchNorm step rolls the running statistics back, and eps = 0 names the norm",
          "[cuda]") {
  const std::string& digits = digits_asset();
  Config c = digits_config(Residual::Identity, NormKind::BatchNorm, Placement::Post);
  c.optim.lr = 1e30;
  c.optim.clip = 0;
  Trainer cpu(c, digits);
  auto gpu = make_cuda_trainer(c, digits);
  int diverged = 0;
  for (int k = 0; k < 6; ++k) {
    const StepStats a = cpu.step();
    const StepStats& b = gpu->step();
    INFO("step " << k + 1);
    REQUIRE(a.diverged == b.diverged);
    diverged += b.diverged;
    gpu->sync_to_host();
    const Model& hm = gpu->host().model();
    const std::vector<float> got(hm.buffers(), hm.buffers() + hm.plan().num_bufs);
    CHECK(scaled_err(got, std::vector<float>(cpu.model().buffers(), cpu.model().buffers() + got.size())) < 1e-3);
  }
  CHECK(diverged > 0);
  // The article's LayerNorm: eps = 0 and a dead stem make block 0's input constant, its 1/std infinite.
  Config e = config_from_string(R"({"model": {"kind": "mlp", "depth": 3, "width": 8, "norm": "layernorm",
                                    "placement": "pre", "eps": 0}, "optim": {"batch": 16}})");
  auto g = make_cuda_trainer(e, "");
  Model& m = g->host().model();
  std::fill(m.params() + m.find("stem.weight")->offset, m.params() + m.find("stem.weight")->offset + 16, 0.0f);
  std::fill(m.params() + m.find("stem.bias")->offset, m.params() + m.find("stem.bias")->offset + 8, 0.5f);
  g->ops().upload(g->executor().params(), m.params(), sizeof(float) * m.num_params());
  const StepStats& st = g->step();
  INFO(st.divergence);
  CHECK(st.diverged);
  CHECK(st.divergence.find("division by zero variance in blocks.0.mlp.norm_in (block 0)") != std::string::npos);
}

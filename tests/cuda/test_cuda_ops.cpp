// [cuda]: every GPU op against the CPU core (cpp/core/ops) on random inputs, forward and backward,
// gradients pre-filled with random values so the "adds into" contract is checked too. Tolerances
// (max abs difference over the reference tensor's largest magnitude):
//   elementwise ops, norms, softmax, cross-entropy       1e-5
//   GEMM-based (linear, attention), reductions over rows  2e-5 .. 1e-4 (summation order differs)
//   statistics and optimiser against HostOps               1e-5 (relative, per value)
//   TF32 matrix products                                    1e-2
#include <catch2/catch.hpp>

#include <cstring>

#include "cuda_testing.h"
#include "exec/host_ops.h"
#include "ops/ops.h"
#include "exec/plan_executor.h"

using namespace resnorm;
using namespace resnorm_test;

TEST_CASE("linear forward and backward match the CPU core", "[cuda]") {
  struct Shape { int N, IC, OC; };
  const Shape shapes[] = {{7, 2, 16}, {64, 32, 96}, {300, 128, 65}, {1024, 384, 1536}, {33, 1536, 384}};
  for (int lt = 0; lt < 2; ++lt) {
    CudaOptions o;
    o.lt_bias = lt == 1;
    Dev d(o);
    for (const Shape& s : shapes)
      for (int bias = 0; bias < 2; ++bias) {
        INFO("N " << s.N << " IC " << s.IC << " OC " << s.OC << " bias " << bias << " cuBLASLt " << lt);
        d.reserve(8, s.N);
        const size_t ni = static_cast<size_t>(s.N) * s.IC, no = static_cast<size_t>(s.N) * s.OC;
        auto in = random_vec(ni, 1), w = random_vec(static_cast<size_t>(s.OC) * s.IC, 2, 0.1f), b = random_vec(s.OC, 3);
        std::vector<float> out(no);
        linear_forward(out.data(), in.data(), w.data(), bias ? b.data() : nullptr, s.N, s.IC, s.OC);
        float* dout_ = d.zeros(no);
        d.ops->linear_forward(dout_, d.put(in), d.put(w), bias ? d.put(b) : nullptr, s.N, s.IC, s.OC);
        CHECK(scaled_err(d.get(dout_, no), out) < 2e-5);

        auto dy = random_vec(no, 4), din = random_vec(ni, 5), dw = random_vec(w.size(), 6), db = random_vec(s.OC, 7);
        float *gdin = d.put(din), *gdw = d.put(dw), *gdb = d.put(db);
        linear_backward(din.data(), dw.data(), bias ? db.data() : nullptr, dy.data(), in.data(), w.data(), s.N, s.IC, s.OC);
        d.ops->linear_backward(gdin, gdw, bias ? gdb : nullptr, d.put(dy), d.put(in), d.put(w), s.N, s.IC, s.OC);
        CHECK(scaled_err(d.get(gdin, ni), din) < 2e-5);
        CHECK(scaled_err(d.get(gdw, dw.size()), dw) < 1e-4);
        if (bias) CHECK(scaled_err(d.get(gdb, db.size()), db) < 1e-4);
      }
  }
}

TEST_CASE("TF32 is used only when asked for, and stays within TF32 precision", "[cuda]") {
  const int N = 256, IC = 512, OC = 256;
  auto in = random_vec(static_cast<size_t>(N) * IC, 1), w = random_vec(static_cast<size_t>(OC) * IC, 2, 0.1f);
  std::vector<float> ref(static_cast<size_t>(N) * OC);
  linear_forward(ref.data(), in.data(), w.data(), nullptr, N, IC, OC);
  CudaOptions fp32, tf32;
  tf32.tf32 = true;
  Dev a(fp32), b(tf32);
  a.reserve(8, N);
  b.reserve(8, N);
  float *oa = a.zeros(ref.size()), *ob = b.zeros(ref.size());
  a.ops->linear_forward(oa, a.put(in), a.put(w), nullptr, N, IC, OC);
  b.ops->linear_forward(ob, b.put(in), b.put(w), nullptr, N, IC, OC);
  const double ea = scaled_err(a.get(oa, ref.size()), ref), eb = scaled_err(b.get(ob, ref.size()), ref);
  INFO("fp32 error " << ea << ", tf32 error " << eb);
  CHECK(ea < 2e-5);
  CHECK(eb < 1e-2);
}

TEST_CASE("embedding forward and backward match the CPU core", "[cuda]") {
  for (int C : {8, 6, 128}) {
    const int B = 3, T = 5, V = 11, N = B * T;
    INFO("C " << C);
    Dev d;
    d.reserve(C, N);
    auto tok = random_ints(N, V, 9);
    tok[3] = tok[7] = tok[11] = 4;  // a token that repeats
    auto wte = random_vec(static_cast<size_t>(V) * C, 1), wpe = random_vec(static_cast<size_t>(T) * C, 2);
    std::vector<float> out(static_cast<size_t>(N) * C);
    embedding_forward(out.data(), tok.data(), wte.data(), wpe.data(), B, T, C);
    float* go = d.zeros(out.size());
    int* gtok = d.put(tok);
    d.ops->embedding_forward(go, gtok, d.put(wte), d.put(wpe), B, T, C);
    CHECK(scaled_err(d.get(go, out.size()), out) < 1e-6);

    auto dy = random_vec(out.size(), 3), dwte = random_vec(wte.size(), 4), dwpe = random_vec(wpe.size(), 5);
    std::vector<int> rows(N), start(V + 1);
    make_token_buckets(tok.data(), N, V, rows.data(), start.data());
    float *gdwte = d.put(dwte), *gdwpe = d.put(dwpe);
    embedding_backward(dwte.data(), dwpe.data(), dy.data(), tok.data(), B, T, C);
    d.ops->embedding_backward(gdwte, gdwpe, d.put(dy), gtok, d.put(rows), d.put(start), B, T, C, V);
    CHECK(scaled_err(d.get(gdwte, dwte.size()), dwte) < 1e-5);
    CHECK(scaled_err(d.get(gdwpe, dwpe.size()), dwpe) < 1e-5);
  }
}

TEST_CASE("LayerNorm and RMSNorm forward and backward match the CPU core", "[cuda]") {
  for (NormKind k : {NormKind::LayerNorm, NormKind::RmsNorm})
    for (int C : {6, 64, 96, 768, 1000, 1536})
      for (int N : {1, 33, 513}) {
        INFO(to_string(k) << " N " << N << " C " << C);
        Dev d;
        d.reserve(C, N);
        const size_t n = static_cast<size_t>(N) * C;
        auto x = random_vec(n, 1, 2.0f), w = random_vec(C, 2), b = random_vec(C, 3);
        for (auto& v : x) v += 0.5f;  // a mean away from zero
        std::vector<float> out(n), mean(N), rstd(N);
        HostOps host;
        host.norm_forward(k, out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
        float *go = d.zeros(n), *gm = d.zeros(N), *gr = d.zeros(N), *gx = d.put(x), *gw = d.put(w), *gb = d.put(b);
        d.ops->norm_forward(k, go, gm, gr, gx, gw, gb, N, C, 1e-5f);
        CHECK(scaled_err(d.get(go, n), out) < 1e-5);
        CHECK(scaled_err(d.get(gr, N), rstd) < 1e-5);
        if (k == NormKind::LayerNorm) CHECK(scaled_err(d.get(gm, N), mean) < 1e-5);

        auto dy = random_vec(n, 4), din = random_vec(n, 5), dw = random_vec(C, 6), db = random_vec(C, 7);
        float *gdin = d.put(din), *gdw = d.put(dw), *gdb = d.put(db);
        host.norm_backward(k, din.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), mean.data(), rstd.data(), N, C);
        d.ops->norm_backward(k, gdin, gdw, gdb, d.put(dy), gx, gw, d.put(mean), d.put(rstd), N, C);
        CHECK(scaled_err(d.get(gdin, n), din) < 1e-5);
        CHECK(scaled_err(d.get(gdw, C), dw) < 1e-4);
        if (k == NormKind::LayerNorm) CHECK(scaled_err(d.get(gdb, C), db) < 1e-4);
      }
}

TEST_CASE("residual variants, plain and fused with each norm, match the CPU core", "[cuda]") {
  for (Residual res : kResiduals)
    for (NormKind k : {NormKind::LayerNorm, NormKind::RmsNorm})
      for (int C : {6, 64, 768})
        for (int with_dres = 0; with_dres < 2; ++with_dres) {
          const int N = 37;
          const size_t n = static_cast<size_t>(N) * C;
          INFO(to_string(res) << " x " << to_string(k) << " C " << C << " dres " << with_dres);
          Dev d;
          d.reserve(C, N);
          HostOps host;
          const float alpha = 1.6817928f;  // DeepNorm's (2N)^(1/4) for N = 4
          const std::vector<float> gate = {0.7f};  // ReZero's a, read from device memory
          const float* agate = res == Residual::ReZero ? gate.data() : nullptr;
          const float* dgate = res == Residual::ReZero ? d.put(gate) : nullptr;
          auto x = random_vec(n, 1), f = random_vec(n, 2), w = random_vec(C, 3), b = random_vec(C, 4);
          float *gx = d.put(x), *gf = d.put(f), *gw = d.put(w), *gb = d.put(b);

          // plain residual
          std::vector<float> y(n);
          host.residual_forward(y.data(), x.data(), f.data(), n, res, alpha, agate);
          float* gy = d.zeros(n);
          d.ops->residual_forward(gy, gx, gf, n, res, alpha, dgate);
          CHECK(scaled_err(d.get(gy, n), y) < 1e-6);
          {
            auto dy = random_vec(n, 5), dx = random_vec(n, 6), df = random_vec(n, 7);
            std::vector<float> da = {0.25f};
            float *gdx = d.put(dx), *gdf = d.put(df), *gda = d.put(da);
            host.residual_backward(dx.data(), df.data(), da.data(), dy.data(), f.data(), n, res, alpha, agate);
            d.ops->residual_backward(gdx, gdf, gda, d.put(dy), gf, n, res, alpha, dgate);
            CHECK(scaled_err(d.get(gdx, n), dx) < 1e-6);
            CHECK(scaled_err(d.get(gdf, n), df) < 1e-6);
            CHECK(scaled_err(d.get(gda, 1), da) < 1e-5);
          }

          // fused: y = R(x, f), out = Norm(y)   against residual_forward then norm_forward
          std::vector<float> out(n), mean(N), rstd(N);
          host.residual_norm_forward(k, y.data(), out.data(), mean.data(), rstd.data(), x.data(), f.data(), w.data(),
                                     b.data(), N, C, 1e-5f, res, alpha, agate);
          float *go = d.zeros(n), *gm = d.zeros(N), *gr = d.zeros(N);
          d.ops->residual_norm_forward(k, gy, go, gm, gr, gx, gf, gw, gb, N, C, 1e-5f, res, alpha, dgate);
          CHECK(scaled_err(d.get(gy, n), y) < 1e-6);
          CHECK(scaled_err(d.get(go, n), out) < 1e-5);
          CHECK(scaled_err(d.get(gr, N), rstd) < 1e-5);

          // fused backward: g = dres + dNorm(dnorm), then the residual backward of g
          auto dnorm = random_vec(n, 8), dres = random_vec(n, 9), dx = random_vec(n, 10), df = random_vec(n, 11);
          auto dw = random_vec(C, 12), db = random_vec(C, 13);
          std::vector<float> da = {-0.5f};
          float *gdx = d.put(dx), *gdf = d.put(df), *gdw = d.put(dw), *gdb = d.put(db), *gda = d.put(da);
          host.residual_norm_backward(k, dx.data(), df.data(), da.data(), dw.data(), db.data(),
                                      with_dres ? dres.data() : nullptr, dnorm.data(), y.data(), w.data(), mean.data(),
                                      rstd.data(), f.data(), N, C, res, alpha, agate);
          d.ops->residual_norm_backward(k, gdx, gdf, gda, gdw, gdb, with_dres ? d.put(dres) : nullptr, d.put(dnorm), gy,
                                        gw, gm, gr, gf, N, C, res, alpha, dgate);
          CHECK(scaled_err(d.get(gdx, n), dx) < 1e-5);
          CHECK(scaled_err(d.get(gdf, n), df) < 1e-5);
          CHECK(scaled_err(d.get(gdw, C), dw) < 1e-4);
          if (k == NormKind::LayerNorm) CHECK(scaled_err(d.get(gdb, C), db) < 1e-4);
          CHECK(scaled_err(d.get(gda, 1), da) < 1e-4);
        }
}

TEST_CASE("activations forward and backward match the CPU core", "[cuda]") {
  for (Activation act : {Activation::Relu, Activation::Tanh, Activation::Gelu})
    for (size_t n : {size_t(1), size_t(1001), size_t(4096)}) {
      INFO(to_string(act) << " n " << n);
      Dev d;
      auto x = random_vec(n, 1, 3.0f), dy = random_vec(n, 2), din = random_vec(n, 3);
      std::vector<float> y(n);
      activation_forward(y.data(), x.data(), n, act);
      float *gy = d.zeros(n), *gx = d.put(x), *gdin = d.put(din);
      d.ops->activation_forward(gy, gx, n, act);
      CHECK(scaled_err(d.get(gy, n), y) < 1e-5);
      activation_backward(din.data(), dy.data(), x.data(), n, act);
      d.ops->activation_backward(gdin, d.put(dy), gx, n, act);
      CHECK(scaled_err(d.get(gdin, n), din) < 1e-5);
    }
}

TEST_CASE("causal attention forward, backward and entropy match the CPU core", "[cuda]") {
  struct Shape { int B, T, C, H; };
  for (const Shape& s : {Shape{2, 5, 8, 2}, Shape{3, 64, 128, 4}, Shape{2, 33, 96, 3}, Shape{1, 1, 16, 4}}) {
    INFO("B " << s.B << " T " << s.T << " C " << s.C << " H " << s.H);
    Dev d;
    const int N = s.B * s.T;
    d.reserve(s.C, N, s.H, s.T);
    const size_t nq = static_cast<size_t>(N) * 3 * s.C, no = static_cast<size_t>(N) * s.C;
    const size_t na = static_cast<size_t>(s.B) * s.H * s.T * s.T;
    auto qkv = random_vec(nq, 1);
    std::vector<float> out(no), att(na);
    attention_forward(out.data(), att.data(), qkv.data(), s.B, s.T, s.C, s.H);
    float *gout = d.zeros(no), *gatt = d.zeros(na), *gqkv = d.put(qkv);
    d.ops->attention_forward(gout, gatt, gqkv, s.B, s.T, s.C, s.H);
    CHECK(scaled_err(d.get(gout, no), out) < 2e-5);
    CHECK(scaled_err(d.get(gatt, na), att) < 1e-5);

    auto dy = random_vec(no, 2), dqkv = random_vec(nq, 3);
    std::vector<float> scratch(static_cast<size_t>(s.T) * s.T);
    float* gdqkv = d.put(dqkv);
    attention_backward(dqkv.data(), scratch.data(), dy.data(), qkv.data(), att.data(), s.B, s.T, s.C, s.H);
    d.ops->attention_backward(gdqkv, d.put(dy), gqkv, gatt, s.B, s.T, s.C, s.H);
    CHECK(scaled_err(d.get(gdqkv, nq), dqkv) < 2e-5);

    std::vector<float> ent(s.H);
    for (int h = 0; h < s.H; ++h) ent[static_cast<size_t>(h)] = attention_entropy_head(att.data(), s.B, s.T, s.H, h);
    float* gent = d.zeros(s.H);
    d.ops->attention_entropy(gent, gatt, s.B, s.T, s.H);
    CHECK(scaled_err(d.get(gent, s.H), ent) < 1e-5);
  }
}

TEST_CASE("cross-entropy forward, backward and mean loss match the CPU core", "[cuda]") {
  for (int V : {2, 65, 300}) {
    const int N = 37;
    INFO("V " << V);
    Dev d;
    auto z = random_vec(static_cast<size_t>(N) * V, 1, 3.0f);
    auto t = random_ints(N, V, 2);
    std::vector<float> probs(z.size());
    const double loss = cross_entropy_forward(probs.data(), z.data(), t.data(), N, V);
    float *gp = d.zeros(z.size()), *gl = d.zeros(N);
    int* gt = d.put(t);
    d.ops->cross_entropy_forward(gp, gl, d.put(z), gt, N, V);
    auto* gloss = static_cast<double*>(d.ops->alloc(sizeof(double)));
    d.bufs.push_back(gloss);
    d.ops->mean_loss(gloss, gl, N);
    CHECK(scaled_err(d.get(gp, z.size()), probs) < 1e-5);
    CHECK(d.get(gloss, 1)[0] == Approx(loss).epsilon(1e-6));

    auto dz = random_vec(z.size(), 3);
    float* gdz = d.put(dz);
    cross_entropy_backward(dz.data(), probs.data(), t.data(), N, V);
    d.ops->cross_entropy_backward(gdz, gp, gt, N, V);
    CHECK(scaled_err(d.get(gdz, dz.size()), dz) < 1e-5);
  }
}

TEST_CASE("statistics, guard, clipping and the AdamW / SGD update match HostOps", "[cuda]") {
  // Three slices of a flat block, one larger than a chunk, one with weight decay.
  const std::vector<Segment> segs = {{0, 3 * kChunkElems + 17, kChunkDecay}, {3 * kChunkElems + 17, 5, 0},
                                     {3 * kChunkElems + 22, 1000, kChunkDecay}};
  const size_t n = 3 * kChunkElems + 1022;
  std::vector<ChunkInfo> chunks;
  std::vector<uint32_t> first;
  make_chunks(segs, chunks, first);
  for (int adamw = 1; adamw >= 0; --adamw)
    for (float clip : {0.0f, 1.0f, 1e6f}) {
      INFO((adamw ? "adamw" : "sgd") << " clip " << clip);
      Dev d;
      d.reserve(8, 8);
      HostOps host;
      ChunkTable ht{chunks.data(), first.data(), static_cast<int>(chunks.size()), static_cast<int>(segs.size())};
      ChunkTable dt{d.put(chunks), d.put(first), ht.nchunks, ht.nseg};
      OptimHyper h;
      h.adamw = adamw;
      h.weight_decay = 0.1f;
      h.clip = clip;
      auto p = random_vec(n, 1), g = random_vec(n, 2, 0.3f);
      std::vector<float> m(n, 0.0f), v(n, 0.0f);
      float *gp = d.put(p), *gg = d.put(g), *gm = d.put(m), *gv = d.put(v);
      StepScalars hs;
      auto* gs = static_cast<StepScalars*>(d.ops->alloc(sizeof(StepScalars)));
      auto* gstats = static_cast<double*>(d.ops->alloc(sizeof(double) * 9));
      d.bufs.push_back(gs);
      d.bufs.push_back(gstats);
      for (int step = 0; step < 2; ++step) {  // two steps: bias corrections and SGD's momentum both move
        hs.loss = 2.5;
        hs.lr = 1e-2;
        d.ops->upload(gs, &hs, sizeof hs);
        double hsq[3], hd2[3], hw2[3];
        host.sumsq(hsq, g.data(), ht);
        host.step_scalars(&hs, hsq, 3, h);
        host.optimizer_update(p.data(), m.data(), v.data(), g.data(), hd2, hw2, ht, &hs, h);
        d.ops->sumsq(gstats, gg, dt);
        d.ops->step_scalars(gs, gstats, 3, h);
        d.ops->optimizer_update(gp, gm, gv, gg, gstats + 3, gstats + 6, dt, gs, h);
        const auto st = d.get(gstats, 9);
        StepScalars ds;
        d.ops->download(&ds, gs, sizeof ds);
        for (int s = 0; s < 3; ++s) {
          CHECK(st[s] == Approx(hsq[s]).epsilon(1e-5));
          CHECK(st[3 + s] == Approx(hd2[s]).epsilon(1e-4));
          CHECK(st[6 + s] == Approx(hw2[s]).epsilon(1e-5));
        }
        CHECK(ds.ok == hs.ok);
        CHECK(ds.t == hs.t);
        CHECK(ds.clip_coef == Approx(hs.clip_coef).epsilon(1e-6));
        CHECK(ds.step_size == Approx(hs.step_size).epsilon(1e-6));
        CHECK(scaled_err(d.get(gp, n), p) < 1e-6);
        CHECK(scaled_err(d.get(gm, n), m) < 1e-6);
      }
      // A non-finite loss: no update, ratios zero, t unchanged.
      hs.loss = NAN;
      d.ops->upload(gs, &hs, sizeof hs);
      const auto before = d.get(gp, n);
      d.ops->sumsq(gstats, gg, dt);
      d.ops->step_scalars(gs, gstats, 3, h);
      d.ops->optimizer_update(gp, gm, gv, gg, gstats + 3, gstats + 6, dt, gs, h);
      StepScalars ds;
      d.ops->download(&ds, gs, sizeof ds);
      CHECK(ds.ok == 0);
      CHECK(ds.t == 2);
      CHECK(d.get(gp, n) == before);
      CHECK(d.get(gstats, 9)[3] == 0.0);
    }
}

// The op thread pool (issue 13): results must not depend on the thread count, bit for bit. The
// reference is the one-thread run, which is the core's code without chunking; every other count
// must reproduce its bytes (losses, gradients, parameters), for the GEMM shapes the presets use,
// shapes Eigen blocks along the summed dimension, and whole training runs of an mlp, a gpt, a cnn.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aligned.h"
#include "error.h"
#include "ops/ops.h"
#include "parallel.h"
#include "testing.h"
#include "trainer.h"

using namespace resnorm;

namespace {
// Restores one thread when a test ends, passing or not.
struct ThreadsGuard {
  ~ThreadsGuard() { set_threads(1); }
};

bool same_bytes(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

FloatBuffer aligned(const std::vector<float>& v) { return FloatBuffer(v.begin(), v.end()); }

// linear forward and backward at one thread count; returns out | din | dw | db concatenated.
std::vector<float> run_linear(int threads, int N, int IC, int OC) {
  set_threads(threads);
  const FloatBuffer in = aligned(resnorm_test::random_vec(static_cast<size_t>(N) * IC, 1)),
                    w = aligned(resnorm_test::random_vec(static_cast<size_t>(OC) * IC, 2, 0.1f)),
                    b = aligned(resnorm_test::random_vec(OC, 3)),
                    dout = aligned(resnorm_test::random_vec(static_cast<size_t>(N) * OC, 4));
  // the backward adds into gradients that already hold something, as in a model
  FloatBuffer out(static_cast<size_t>(N) * OC), din = aligned(resnorm_test::random_vec(static_cast<size_t>(N) * IC, 5)),
      dw = aligned(resnorm_test::random_vec(static_cast<size_t>(OC) * IC, 6)), db(OC, 0.5f);
  linear_forward(out.data(), in.data(), w.data(), b.data(), N, IC, OC);
  linear_backward(din.data(), dw.data(), db.data(), dout.data(), in.data(), w.data(), N, IC, OC);
  std::vector<float> all(out.begin(), out.end());
  all.insert(all.end(), din.begin(), din.end());
  all.insert(all.end(), dw.begin(), dw.end());
  all.insert(all.end(), db.begin(), db.end());
  return all;
}

std::string corpus() {
  std::ifstream f(std::string(RESNORM_DATA_DIR) + "/tinyshakespeare.txt", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Trains `steps` steps at one thread count; returns every loss and step diagnostic (stored as double)
// and the final parameters.
struct Run {
  std::vector<double> losses;
  std::vector<float> params;
};
Run train(const Config& c, const std::string& data, int threads, int steps) {
  set_threads(threads);
  Trainer tr(c, data);
  Run r;
  for (int i = 0; i < steps; ++i) {
    // the loss and every diagnostic the playground draws (their sums run as tasks on the pool)
    const StepStats& st = tr.step();
    r.losses.push_back(st.loss);
    r.losses.push_back(st.grad_norm);
    for (const auto* v : {&st.block_grad_norm, &st.block_act_rms, &st.update_ratio, &st.attn_entropy})
      r.losses.insert(r.losses.end(), v->begin(), v->end());
  }
  r.losses.push_back(tr.evaluate().val_loss);
  r.params.assign(tr.model().params(), tr.model().params() + tr.model().num_params());
  return r;
}
}  // namespace

TEST_CASE("threads: the pool size is checked and each chunk runs once", "[threads]") {
  ThreadsGuard guard;
  CHECK_THROWS_WITH(set_threads(0), Catch::Contains("threads: 0 is out of range (1..8)"));
  CHECK_THROWS_WITH(set_threads(-3), Catch::Contains("-3"));
  CHECK_THROWS_WITH(set_threads(kMaxThreads + 1), Catch::Contains("9"));
  for (int t : {1, 2, 3, 4, kMaxThreads}) {
    set_threads(t);
    CHECK(threads() == t);
    std::vector<int> hits(1000, 0), worker_ok(1000, 0);
    parallel_for(1000, [&](int c, int worker) {
      ++hits[c];
      worker_ok[c] = worker >= 0 && worker < t;
    });
    CHECK(std::count(hits.begin(), hits.end(), 1) == 1000);
    CHECK(std::count(worker_ok.begin(), worker_ok.end(), 1) == 1000);
  }
}

TEST_CASE("threads: row chunks are multiples of 16 rows, at least 32, two a thread", "[threads]") {
  // gpt-tiny's qkv product (768 rows of 128 x 384): 2 threads -> 4 chunks of 192 rows, 3 -> 6 of 128
  CHECK(row_chunk(768, 128.0 * 384, 2) == 192);
  CHECK(row_chunk(768, 128.0 * 384, 3) == 128);
  CHECK(row_chunk(768, 128.0 * 384, 1) == 768);  // one thread: the whole, unchunked
  CHECK(row_chunk(50, 1e6, 4) == 50);            // too few rows to split
  CHECK(row_chunk(1000, 1.0, 4) == 1000);        // too little work to split
  for (int t : {2, 3, 4, 8})
    for (int rows : {64, 100, 257, 768, 3000}) {
      const int per = row_chunk(rows, 1e5, t);
      INFO("threads=" << t << " rows=" << rows << " per=" << per);
      CHECK((per == rows || (per % 16 == 0 && per >= 32 && (rows + per - 1) / per <= 2 * t)));
    }
}

TEST_CASE("threads: linear forward and backward give the same bits for 1, 2, 3, 4 and 8 threads", "[threads]") {
  ThreadsGuard guard;
  // gpt-tiny's products, the mlp stem (IC = 2), a gpt head, odd sizes, and summed dimensions past
  // Eigen's depth blocking (kc is 288 floats with AVX2, 504 with SSE/wasm SIMD)
  const int shapes[][3] = {{768, 128, 384}, {768, 128, 512}, {768, 512, 128}, {768, 128, 65}, {256, 2, 64},
                           {257, 300, 53}, {100, 37, 190}, {96, 1000, 70}, {3136, 144, 16}, {64, 4096, 33}};
  for (const auto& s : shapes) {
    INFO("N=" << s[0] << " IC=" << s[1] << " OC=" << s[2]);
    const std::vector<float> one = run_linear(1, s[0], s[1], s[2]);
    for (int t : {2, 3, 4, 8}) {
      INFO("threads=" << t);
      CHECK(same_bytes(run_linear(t, s[0], s[1], s[2]), one));
    }
  }
}

TEST_CASE("threads: mlp, gpt and cnn train to the same bits with 1, 2, 3 and 4 threads", "[threads]") {
  ThreadsGuard guard;
  Config gpt = preset("gpt-tiny");
  gpt.optim.batch = 8;  // 512 rows: products and attention still split, the test stays short
  Config gpt_rms = gpt;
  gpt_rms.model.norm = NormKind::RmsNorm;
  // the presets' mlps are too small to wake the pool (kMinChunkCost); a wider one splits its products,
  // activations, residual adds, optimiser and norms
  Config wide = preset("mlp-residual-deep");
  wide.model.depth = 8;
  wide.model.width = 256;
  wide.optim.batch = 128;
  Config cnn = preset("cnn-digits");
  cnn.optim.batch = 32;
  const std::string text = corpus(), digits = resnorm_test::digits_asset();
  REQUIRE(!digits.empty());
  struct Case {
    const char* name;
    Config cfg;
    const std::string* data;
    int steps;
  };
  const std::string none;
  for (const Case& c : {Case{"mlp-spiral", preset("mlp-spiral"), &none, 20}, Case{"mlp-residual-deep", preset("mlp-residual-deep"), &none, 20},
                        Case{"mlp 8 x 256, batch 128", wide, &none, 10},
                        Case{"gpt-tiny", gpt, &text, 10}, Case{"gpt-tiny rmsnorm", gpt_rms, &text, 4},
                        Case{"cnn-digits", cnn, &digits, 5}}) {
    INFO(c.name);
    const Run one = train(c.cfg, *c.data, 1, c.steps);
    for (int t : {2, 3, 4}) {
      INFO("threads=" << t);
      const Run r = train(c.cfg, *c.data, t, c.steps);
      REQUIRE(r.losses.size() == one.losses.size());
      CHECK(std::memcmp(r.losses.data(), one.losses.data(), one.losses.size() * sizeof(double)) == 0);
      CHECK(same_bytes(r.params, one.params));
    }
  }
}

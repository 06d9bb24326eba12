// GEMM throughput of the core's Eigen products at the shapes the presets use, one source for every build:
// wasm (embind `runAll()`, driven by bench/wasm/bench.mjs in Node and Chromium) and native (`main`, printing JSON).
#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "ops/gemm.h"  // the 128-bit GEMM the linear layers use without -march=native (issue 13)
#include "trainer.h"     // resnorm::configure_eigen: the same cache sizes the Trainer uses

#ifdef __EMSCRIPTEN__
#include <emscripten/bind.h>
#endif

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Shape {
  const char* name;  // where the shape comes from
  int N, IC, OC;     // y[N,OC] = x[N,IC] * W[OC,IC]^T, as linear_forward
};

// The forward products of the presets (the backward ones are the same sizes, transposed).
const Shape kShapes[] = {
    {"mlp-spiral fc 32x32, batch 32", 32, 32, 32},
    {"mlp-*-deep fc 64x64, batch 64", 64, 64, 64},
    {"mlp-3x256 fc 256x256, batch 64", 64, 256, 256},
    {"gpt-tiny qkv 128->384, 12x64 tokens", 768, 128, 384},
    {"gpt-tiny mlp 128->512, 12x64 tokens", 768, 128, 512},
    {"gpt-tiny proj 512->128, 12x64 tokens", 768, 512, 128},
    {"square 256", 256, 256, 256},
    {"square 512", 512, 512, 512},
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// How many calls of `once` make a batch of ~min_ms (calibrating also warms caches and the JIT).
template <class F>
int calls_per_batch(const F& once, double min_ms) {
  int inner = 1;
  for (;;) {
    const double t0 = now_ms();
    for (int i = 0; i < inner; ++i) once();
    const double dt = now_ms() - t0;
    if (dt >= min_ms || inner >= (1 << 24)) return inner;
    inner *= dt < min_ms / 8 ? 8 : 2;
  }
}

// Median GFLOP/s of `reps` timed batches, each at least ~min_ms long, after a warm-up batch.
double gemm_gflops(const Shape& s, double min_ms, int reps) {
  RowMat x = RowMat::Random(s.N, s.IC), w = RowMat::Random(s.OC, s.IC), y(s.N, s.OC);
  auto once = [&] { y.noalias() = x * w.transpose(); };
  const int inner = calls_per_batch(once, min_ms);
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_ms();
    for (int i = 0; i < inner; ++i) once();
    const double dt = now_ms() - t0;
    rates.push_back(2.0 * s.N * s.IC * s.OC * inner / (dt * 1e6));
  }
  std::sort(rates.begin(), rates.end());
  volatile float sink = y(0, 0);  // keep the products alive
  (void)sink;
  return rates[rates.size() / 2];
}

std::string run_all(double min_ms, int reps) {
  resnorm::configure_eigen();
  std::string out = "[";
  for (const Shape& s : kShapes) {
    char row[256];
    std::snprintf(row, sizeof row, "%s{\"shape\":\"%s\",\"N\":%d,\"IC\":%d,\"OC\":%d,\"gflops\":%.3f}", out.size() > 1 ? "," : "",
                  s.name, s.N, s.IC, s.OC, gemm_gflops(s, min_ms, reps));
    out += row;
  }
  return out + "]";
}

// A linear layer's three products (y = x W^T, dx += dy W, dW += dy^T x), through Eigen and through
// resnorm::gemm (cpp/core/ops/gemm.h), in `rounds` rounds that alternate the two, so that load on a shared
// machine falls on both alike. GFLOP/s of all three together (6 N IC OC flops), median over rounds.
std::string run_linear(double min_ms, int rounds) {
  resnorm::configure_eigen();
  std::string out = "[";
  for (const Shape& s : kShapes) {
    RowMat x = RowMat::Random(s.N, s.IC), w = RowMat::Random(s.OC, s.IC), y(s.N, s.OC), dy = RowMat::Random(s.N, s.OC);
    RowMat dx = RowMat::Zero(s.N, s.IC), dw = RowMat::Zero(s.OC, s.IC);
    const auto eigen = [&] {
      y.noalias() = x * w.transpose();
      dx.noalias() += dy * w;
      dw.noalias() += dy.transpose() * x;
    };
    const auto ours = [&] {
      resnorm::gemm(s.N, s.OC, s.IC, x.data(), s.IC, 1, w.data(), 1, s.IC, y.data(), s.OC, false);
      resnorm::gemm(s.N, s.IC, s.OC, dy.data(), s.OC, 1, w.data(), s.IC, 1, dx.data(), s.IC, true);
      resnorm::gemm(s.OC, s.IC, s.N, dy.data(), 1, s.OC, x.data(), s.IC, 1, dw.data(), s.IC, true);
    };
    const double flops = 6.0 * s.N * s.IC * s.OC;
    const int inner = calls_per_batch(eigen, min_ms);  // calibrated on Eigen, used for both
    std::vector<double> e, o;
    for (int r = 0; r < rounds; ++r)
      for (int which = 0; which < 2; ++which) {
        const double t0 = now_ms();
        for (int i = 0; i < inner; ++i) which ? ours() : eigen();
        (which ? o : e).push_back(flops * inner / ((now_ms() - t0) * 1e6));
      }
    std::sort(e.begin(), e.end());
    std::sort(o.begin(), o.end());
    volatile float sink = y(0, 0) + dx(0, 0) + dw(0, 0);
    (void)sink;
    char row[256];
    std::snprintf(row, sizeof row, "%s{\"shape\":\"%s\",\"eigen_gflops\":%.3f,\"core_gemm_gflops\":%.3f}", out.size() > 1 ? "," : "",
                  s.name, e[e.size() / 2], o[o.size() / 2]);
    out += row;
  }
  return out + "]";
}

}  // namespace

#ifdef __EMSCRIPTEN__
EMSCRIPTEN_BINDINGS(gemm_bench) {
  emscripten::function("runAll", &run_all);
  emscripten::function("runLinear", &run_linear);
}
#else
// gemm_bench [min_ms] [reps] [linear]: Eigen's y = x W^T per shape, or with "linear" the layer's three products.
int main(int argc, char** argv) {
  const double min_ms = argc > 1 ? std::atof(argv[1]) : 100.0;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 7;
  const bool linear = argc > 3 && std::string(argv[3]) == "linear";
  std::printf("%s\n", (linear ? run_linear(min_ms, reps) : run_all(min_ms, reps)).c_str());
  return 0;
}
#endif

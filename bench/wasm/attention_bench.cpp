// The attention op alone (cpp/core/ops/attention.cpp), forward and backward at a gpt preset's shape, one
// thread: what issue 24 item 2 changed, without the rest of the step around it. Built and run against
// several builds of the core by bench/wasm/attention.mjs (wasm in Node, native-sse, native -march=native).
// Prints one JSON line: median ms per call over `reps` repetitions of `iters` calls each.
// Usage: attention_bench [B T C H] [reps] [iters]   (default: gpt-tiny, 12 64 128 4, 15 reps, 10 calls)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ops/ops.h"
#include "rng.h"

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}
int arg(int argc, char** argv, int i, int def) {
  if (argc <= i) return def;
  const int v = std::atoi(argv[i]);
  if (v <= 0) {
    std::fprintf(stderr, "attention_bench: argument %d must be a positive integer, got \"%s\"\n", i, argv[i]);
    std::exit(1);
  }
  return v;
}
}  // namespace

int main(int argc, char** argv) {
  const int B = arg(argc, argv, 1, 12), T = arg(argc, argv, 2, 64), C = arg(argc, argv, 3, 128), H = arg(argc, argv, 4, 4);
  const int reps = arg(argc, argv, 5, 15), iters = arg(argc, argv, 6, 10);
  if (C % H) {
    std::fprintf(stderr, "attention_bench: C = %d is not a multiple of H = %d\n", C, H);
    return 1;
  }
  resnorm::Rng rng(7, 1);
  std::vector<float> qkv(static_cast<size_t>(B) * T * 3 * C), dout(static_cast<size_t>(B) * T * C);
  for (auto& x : qkv) x = rng.normal();
  for (auto& x : dout) x = rng.normal();
  std::vector<float> out(dout.size()), att(static_cast<size_t>(B) * H * T * T), dqkv(qkv.size(), 0.0f),
      scratch(static_cast<size_t>(T) * T);
  using clock = std::chrono::steady_clock;
  std::vector<double> fwd, bwd;
  for (int r = 0; r < reps + 2; ++r) {  // the first two repetitions warm up
    auto t0 = clock::now();
    for (int i = 0; i < iters; ++i) resnorm::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, H);
    auto t1 = clock::now();
    for (int i = 0; i < iters; ++i)
      resnorm::attention_backward(dqkv.data(), scratch.data(), dout.data(), qkv.data(), att.data(), B, T, C, H);
    auto t2 = clock::now();
    if (r < 2) continue;
    fwd.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / iters);
    bwd.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count() / iters);
  }
  double check = 0;  // printed so that no call can be optimised away
  for (float x : out) check += x;
  std::printf("{\"B\":%d,\"T\":%d,\"C\":%d,\"H\":%d,\"forward_ms\":%.5f,\"backward_ms\":%.5f,\"checksum\":%.6g}\n", B, T, C, H,
              median(fwd), median(bwd), check);
  return 0;
}

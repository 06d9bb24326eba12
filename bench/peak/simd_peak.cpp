// The machine's own 128-bit f32x4 multiply + add throughput (issue 24, item 4): the peak a 128-bit GEMM
// (cpp/core/ops/gemm.h, which wasm and native-sse use) can aim at. One source, three builds
// (bench/peak/run.mjs): native g++ -O3 -msse4.1, native g++ -O3 -march=native (still 128-bit vectors:
// the type below is 16 bytes, so AVX/AVX-512 only change the encoding), and em++ -O3 -msimd128 (wasm SIMD).
//
// Kernel: K independent multiply chains (m_i = m_i * s) and K independent add chains (a_i = a_i + t), one
// mul and one add per chain pair and step, the same 1:1 mix of multiplies and adds as a GEMM's
// multiply-accumulate (c += a * b) without FMA. The chains do not depend on each other, so with K large
// enough the loop is bound by how many vector mul/add instructions the core issues per cycle, not by their
// latency (3-4 cycles on current x86): the figure for several K shows where it stops growing.
// FLOP counting: each f32x4 mul or add is 4 float operations, so one step of K chain pairs is 8 K FLOPs; a
// GEMM of M x N x K counts 2 M N K (one multiply and one add per term), so the two are directly comparable.
// s = 1 and t = 0 are read at run time (the compiler cannot fold them) and keep every value where it
// started (a small integer), never denormal or infinite, which could slow some units down.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#ifndef __EMSCRIPTEN__
#include <time.h>
#endif
#ifdef __EMSCRIPTEN__
#include <emscripten/bind.h>
#endif

namespace {

typedef float f32x4 __attribute__((vector_size(16)));  // GCC/clang vector extension: one 128-bit register

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// This thread's CPU time (natively): unlike the wall clock it does not count the time the thread waits
// for a core, so on a loaded machine it shows the core's own rate. Wasm has no such clock (wall time only).
double cpu_ms() {
#ifdef __EMSCRIPTEN__
  return now_ms();
#else
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
#endif
}

struct Times {
  double wall_s, cpu_s;
};

volatile float g_one = 1.0f, g_zero = 0.0f;  // run-time constants
volatile float g_sink = 0.0f;                // keeps the results alive

// `iters` steps of K mul chains and K add chains, 8 unrolled steps per loop turn.
template <int K>
Times run_chains(long long iters) {
  const float one = g_one, zero = g_zero;
  const f32x4 s = {one, one, one, one}, t = {zero, zero, zero, zero};
  f32x4 m[K], a[K];
  // Distinct start values (1, 2, 3, ...), or the compiler merges identical chains into one.
  for (int i = 0; i < K; ++i) m[i] = a[i] = s * float(i + 1);
  const double t0 = now_ms(), c0 = cpu_ms();
  for (long long it = 0; it < iters; it += 8) {
#pragma GCC unroll 8
    for (int u = 0; u < 8; ++u) {
#pragma GCC unroll 16
      for (int i = 0; i < K; ++i) {
        m[i] = m[i] * s;
        a[i] = a[i] + t;
      }
    }
  }
  const Times dt{(now_ms() - t0) / 1000.0, (cpu_ms() - c0) / 1000.0};
  f32x4 sum = {0, 0, 0, 0};
  for (int i = 0; i < K; ++i) sum += m[i] + a[i];
  g_sink = sum[0] + sum[1] + sum[2] + sum[3];
  return dt;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median GFLOP/s (wall clock, CPU time) over `reps` batches of ~min_ms each (the calibrating batches are
// discarded).
template <int K>
Times gflops(double min_ms, int reps) {
  long long iters = 1 << 12;
  while (run_chains<K>(iters).wall_s * 1000.0 < min_ms && iters < (1LL << 40)) iters *= 2;
  std::vector<double> w, c;
  const double flops = 8.0 * K * double(iters);
  for (int r = 0; r < reps; ++r) {
    const Times t = run_chains<K>(iters);
    w.push_back(flops / t.wall_s / 1e9);
    c.push_back(flops / t.cpu_s / 1e9);
  }
  return {median(w), median(c)};
}

// JSON: GFLOP/s for each chain count K (K mul + K add chains); the peak is the best of them. Natively also
// the same by thread CPU time.
std::string run_all(double min_ms, int reps) {
  const Times r[] = {gflops<1>(min_ms, reps), gflops<2>(min_ms, reps), gflops<4>(min_ms, reps), gflops<6>(min_ms, reps),
                     gflops<8>(min_ms, reps), gflops<12>(min_ms, reps)};
  const int ks[] = {1, 2, 4, 6, 8, 12};  // 12: 24 accumulators, more than SSE's 16 registers (spills)
  std::string wall = "{\"by_chains\":{", cpu = "\"cpu_time_by_chains\":{";
  double best = 0, best_cpu = 0;
  char buf[96];
  for (int i = 0; i < 6; ++i) {
    std::snprintf(buf, sizeof buf, "%s\"%d\":%.3f", i ? "," : "", ks[i], r[i].wall_s);
    wall += buf;
    std::snprintf(buf, sizeof buf, "%s\"%d\":%.3f", i ? "," : "", ks[i], r[i].cpu_s);
    cpu += buf;
    best = std::max(best, r[i].wall_s);
    best_cpu = std::max(best_cpu, r[i].cpu_s);
  }
#ifdef __EMSCRIPTEN__
  std::snprintf(buf, sizeof buf, "},\"peak_gflops\":%.3f}", best);
  return wall + buf;
#else
  std::snprintf(buf, sizeof buf, "},\"peak_gflops\":%.3f,", best);
  wall += buf;
  std::snprintf(buf, sizeof buf, "},\"peak_gflops_cpu_time\":%.3f}", best_cpu);
  return wall + cpu + buf;
#endif
}

}  // namespace

#ifdef __EMSCRIPTEN__
EMSCRIPTEN_BINDINGS(simd_peak) { emscripten::function("runPeak", &run_all); }
#else
int main(int argc, char** argv) {
  const double min_ms = argc > 1 ? std::atof(argv[1]) : 50;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  if (!(min_ms > 0) || reps < 1) {
    std::fprintf(stderr, "usage: simd_peak [ms per batch > 0] [batches >= 1]\n");
    return 2;
  }
  std::printf("%s\n", run_all(min_ms, reps).c_str());
}
#endif

// Shared scaffolding of the kernel benchmarks (one file per op, several numbered versions, each
// validated against a CPU reference before it is timed; llm.c's dev/cuda method). Reports the
// effective bandwidth of every version next to the device-to-device copy bandwidth measured in the
// same run (bytes read + written, as the issue's reference figures count them).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#define BENCH_CHECK(call)                                                                          \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                                \
    }                                                                                              \
  } while (0)

namespace bench {

struct Args {
  int N = 65536, C = 768, version = 0, reps = 50, warmup = 5;
  bool json = false;
};

inline Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", s.c_str()); std::exit(2); }
      return std::atoi(argv[++i]);
    };
    if (s == "--json") a.json = true;
    else if (s == "--N") a.N = next();
    else if (s == "--C") a.C = next();
    else if (s == "--version") a.version = next();
    else if (s == "--reps") a.reps = next();
    else {
      std::fprintf(stderr, "usage: %s [--version K] [--N rows] [--C width] [--reps R] [--json]\n", argv[0]);
      std::exit(2);
    }
  }
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "no CUDA device (%s): nothing measured\n", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    std::exit(77);
  }
  return a;
}

// Deterministic inputs: uniform in [lo, hi) from a 64-bit LCG (no std:: distributions).
inline void fill(std::vector<float>& v, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = lo + (hi - lo) * static_cast<float>((s >> 40) & 0xFFFFFF) / 16777216.0f;
  }
}

struct DevBuf {
  float* p = nullptr;
  size_t n = 0;
  explicit DevBuf(size_t count) : n(count) { BENCH_CHECK(cudaMalloc(&p, sizeof(float) * std::max<size_t>(n, 1))); }
  DevBuf(const std::vector<float>& h) : DevBuf(h.size()) { up(h); }
  ~DevBuf() { cudaFree(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  void up(const std::vector<float>& h) { BENCH_CHECK(cudaMemcpy(p, h.data(), sizeof(float) * n, cudaMemcpyHostToDevice)); }
  std::vector<float> down() const {
    std::vector<float> h(n);
    BENCH_CHECK(cudaMemcpy(h.data(), p, sizeof(float) * n, cudaMemcpyDeviceToHost));
    return h;
  }
  void zero() { BENCH_CHECK(cudaMemset(p, 0, sizeof(float) * n)); }
};

// Worst |a - b| / max(|b|, floor).
inline double max_err(const std::vector<float>& a, const std::vector<float>& b, double floor = 1.0) {
  double w = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / std::max(std::fabs(static_cast<double>(b[i])), floor);
    if (!(d <= w)) w = d;  // NaN counts as the worst
  }
  return w;
}

// Median milliseconds of `reps` timed launches after `warmup` untimed ones.
inline double time_ms(const std::function<void()>& launch, int reps, int warmup) {
  for (int i = 0; i < warmup; ++i) launch();
  BENCH_CHECK(cudaDeviceSynchronize());
  cudaEvent_t a, b;
  BENCH_CHECK(cudaEventCreate(&a));
  BENCH_CHECK(cudaEventCreate(&b));
  std::vector<float> ms;
  for (int i = 0; i < reps; ++i) {
    BENCH_CHECK(cudaEventRecord(a));
    launch();
    BENCH_CHECK(cudaEventRecord(b));
    BENCH_CHECK(cudaEventSynchronize(b));
    float t = 0;
    BENCH_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  BENCH_CHECK(cudaGetLastError());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Device-to-device copy of `bytes` (cudaMemcpy), counted as bytes read + written.
inline double copy_gbps(size_t bytes, int reps) {
  void *src = nullptr, *dst = nullptr;
  BENCH_CHECK(cudaMalloc(&src, bytes));
  BENCH_CHECK(cudaMalloc(&dst, bytes));
  BENCH_CHECK(cudaMemset(src, 1, bytes));
  const double ms = time_ms([&] { BENCH_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice)); }, reps, 3);
  cudaFree(src);
  cudaFree(dst);
  return 2.0 * bytes / (ms * 1e-3) / 1e9;
}

inline std::string gpu_name() {
  int dev = 0;
  cudaDeviceProp p{};
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess) return "unknown";
  return p.name;
}

inline int sm_count() {
  int dev = 0, n = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev);
  return n;
}

struct Reporter {
  const Args& args;
  std::string op, counted;
  double copy = 0;
  int failures = 0;
  Reporter(const Args& a, std::string op_name, std::string bytes_counted, size_t copy_bytes)
      : args(a), op(std::move(op_name)), counted(std::move(bytes_counted)) {
    copy = copy_gbps(copy_bytes, std::max(10, a.reps / 2));
    std::fprintf(a.json ? stderr : stdout,
                 "%s  N=%d C=%d on %s; device-to-device copy %.0f GB/s (read + write); GB/s counts %s\n", op.c_str(),
                 a.N, a.C, gpu_name().c_str(), copy, counted.c_str());
  }
  bool wanted(int v) const { return args.version == 0 || args.version == v; }
  // Validation first: a version that disagrees with the CPU reference is reported and not timed.
  void result(int v, const char* name, double err, double tol, const std::function<void()>& launch, double bytes) {
    const bool ok = err <= tol;
    double ms = 0, gbps = 0;
    if (ok) {
      ms = time_ms(launch, args.reps, args.warmup);
      gbps = bytes / (ms * 1e-3) / 1e9;
    } else {
      ++failures;
    }
    if (args.json)
      std::printf("{\"op\":\"%s\",\"version\":%d,\"name\":\"%s\",\"N\":%d,\"C\":%d,\"gpu\":\"%s\",\"valid\":%s,"
                  "\"max_err\":%.3g,\"tol\":%.3g,\"ms\":%.5f,\"gbps\":%.1f,\"copy_gbps\":%.1f,\"of_copy\":%.3f,"
                  "\"bytes_counted\":\"%s\"}\n",
                  op.c_str(), v, name, args.N, args.C, gpu_name().c_str(), ok ? "true" : "false", err, tol, ms, gbps,
                  copy, ok ? gbps / copy : 0.0, counted.c_str());
    FILE* human = args.json ? stderr : stdout;  // with --json: JSON lines on stdout, the table on stderr
    if (ok)
      std::fprintf(human, "  v%d %-50s %8.4f ms %7.0f GB/s  %5.1f%% of copy   (max err %.2g)\n", v, name, ms, gbps,
                   100.0 * gbps / copy, err);
    else
      std::fprintf(human, "  v%d %-50s INVALID: max err %.3g > %.3g, not timed\n", v, name, err, tol);
    std::fflush(stdout);
    std::fflush(stderr);
  }
  int exit_code() const { return failures ? 1 : 0; }
};

}  // namespace bench

// Issue 11, ops: the core's conv2d (im2col + Eigen GEMM, cpp/core/ops/conv2d.cpp) against a direct loop, at
// cnn-digits's shapes (batch 64, 14x14 input, widths 16/32/64). Bench-only: the direct conv lives here, not in
// the core. One source for both builds: native (bench/conv/run.sh compiles it with the core's flags and links
// build/native/libresnorm_core.a) and wasm (em++ with the wasm preset's flags, run under Node). Prints JSON.
//
// The direct conv (NHWC activations, as the core's): the weight is repacked once per call into [K,K,IC,OC]
// (forward, weight gradient) and [K,K,OC,IC] (input gradient), so that every inner loop is an axpy over
// contiguous channels, which the compiler vectorises (AVX2 natively, wasm SIMD in wasm):
//   forward   out[p, :]       += in[q, ci] * Wt[kh, kw, ci, :]        for each output pixel p, tap (kh, kw) -> q
//   weight    dWt[kh, kw, ci, :] += in[q, ci] * dout[p, :]
//   input     din[q, :]       += dout[p, oc] * Wt2[kh, kw, oc, :]
// The output channel count is a template parameter (16, 32 or 64 here), so the forward keeps a pixel's
// accumulator in registers. The sums run in a different order from the GEMM's, so results agree to rounding,
// not bit for bit; the max relative difference is printed beside the times.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#include "ops/ops.h"
#include "trainer.h"  // resnorm::configure_eigen: the cache sizes the Trainer sets

namespace {

// CPU time of this thread (natively) or of the Node process (wasm, through process.cpuUsage()), in ms: on a
// machine shared with other work (load average ~9 on 2 cores while this was written) wall time mostly measures
// the neighbours; CPU time counts only the cycles this code ran (a neighbour can still evict its caches).
#ifdef __EMSCRIPTEN__
EM_JS(double, cpu_now_ms, (), {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
});
#else
double cpu_now_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}
#endif

template <int OC>
void direct_forward_t(float* out, const float* in, const float* wt, int B, int H, int W, int IC, int K, int S, int P,
                      int Ho, int Wo) {
  for (int b = 0; b < B; ++b)
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow) {
        float acc[OC] = {};
        for (int kh = 0; kh < K; ++kh) {
          const int ih = oh * S - P + kh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < K; ++kw) {
            const int iw = ow * S - P + kw;
            if (iw < 0 || iw >= W) continue;
            const float* x = in + ((static_cast<size_t>(b) * H + ih) * W + iw) * IC;
            const float* wk = wt + static_cast<size_t>(kh * K + kw) * IC * OC;
            for (int ci = 0; ci < IC; ++ci) {
              const float xv = x[ci];
              const float* wr = wk + ci * OC;
              for (int oc = 0; oc < OC; ++oc) acc[oc] += xv * wr[oc];
            }
          }
        }
        std::copy(acc, acc + OC, out + ((static_cast<size_t>(b) * Ho + oh) * Wo + ow) * OC);
      }
}

template <int OC>
void direct_backward_t(float* din, float* dwt, const float* dout, const float* in, const float* wt2, int B, int H,
                       int W, int IC, int K, int S, int P, int Ho, int Wo) {
  for (int b = 0; b < B; ++b)
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow) {
        const float* g = dout + ((static_cast<size_t>(b) * Ho + oh) * Wo + ow) * OC;
        for (int kh = 0; kh < K; ++kh) {
          const int ih = oh * S - P + kh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < K; ++kw) {
            const int iw = ow * S - P + kw;
            if (iw < 0 || iw >= W) continue;
            const size_t q = ((static_cast<size_t>(b) * H + ih) * W + iw) * IC;
            const float* x = in + q;
            float* dk = dwt + static_cast<size_t>(kh * K + kw) * IC * OC;
            for (int ci = 0; ci < IC; ++ci) {
              const float xv = x[ci];
              float* dr = dk + ci * OC;
              for (int oc = 0; oc < OC; ++oc) dr[oc] += xv * g[oc];
            }
            if (din) {
              float* dx = din + q;
              const float* w2 = wt2 + static_cast<size_t>(kh * K + kw) * OC * IC;
              for (int oc = 0; oc < OC; ++oc) {
                const float gv = g[oc];
                const float* wr = w2 + oc * IC;
                for (int ci = 0; ci < IC; ++ci) dx[ci] += gv * wr[ci];
              }
            }
          }
        }
      }
}

struct Direct {
  std::vector<float> wt, wt2, dwt;
  // w [OC, IC, K, K] -> wt [K, K, IC, OC]; wt2 [K, K, OC, IC]
  void repack(const float* w, int IC, int OC, int K, bool second) {
    wt.resize(static_cast<size_t>(K) * K * IC * OC);
    if (second) wt2.resize(wt.size());
    for (int oc = 0; oc < OC; ++oc)
      for (int ci = 0; ci < IC; ++ci)
        for (int t = 0; t < K * K; ++t) {
          const float v = w[(static_cast<size_t>(oc) * IC + ci) * K * K + t];
          if (second) wt2[(static_cast<size_t>(t) * OC + oc) * IC + ci] = v;
          else wt[(static_cast<size_t>(t) * IC + ci) * OC + oc] = v;
        }
  }
  void forward(float* out, const float* in, const float* w, int B, int H, int W, int IC, int OC, int K, int S, int P) {
    const int Ho = resnorm::conv2d_out_size(H, K, S, P), Wo = resnorm::conv2d_out_size(W, K, S, P);
    repack(w, IC, OC, K, false);
    switch (OC) {
      case 16: direct_forward_t<16>(out, in, wt.data(), B, H, W, IC, K, S, P, Ho, Wo); break;
      case 32: direct_forward_t<32>(out, in, wt.data(), B, H, W, IC, K, S, P, Ho, Wo); break;
      case 64: direct_forward_t<64>(out, in, wt.data(), B, H, W, IC, K, S, P, Ho, Wo); break;
      default: std::fprintf(stderr, "conv_bench: no direct kernel for OC %d\n", OC); std::abort();
    }
  }
  // din (if not null) and dw are accumulated into, as the core's conv2d_backward does.
  void backward(float* din, float* dw, const float* dout, const float* in, const float* w, int B, int H, int W, int IC,
                int OC, int K, int S, int P) {
    const int Ho = resnorm::conv2d_out_size(H, K, S, P), Wo = resnorm::conv2d_out_size(W, K, S, P);
    if (din) repack(w, IC, OC, K, true);
    dwt.assign(static_cast<size_t>(K) * K * IC * OC, 0.0f);
    switch (OC) {
      case 16: direct_backward_t<16>(din, dwt.data(), dout, in, wt2.data(), B, H, W, IC, K, S, P, Ho, Wo); break;
      case 32: direct_backward_t<32>(din, dwt.data(), dout, in, wt2.data(), B, H, W, IC, K, S, P, Ho, Wo); break;
      case 64: direct_backward_t<64>(din, dwt.data(), dout, in, wt2.data(), B, H, W, IC, K, S, P, Ho, Wo); break;
      default: std::fprintf(stderr, "conv_bench: no direct kernel for OC %d\n", OC); std::abort();
    }
    for (int oc = 0; oc < OC; ++oc)
      for (int ci = 0; ci < IC; ++ci)
        for (int t = 0; t < K * K; ++t)
          dw[(static_cast<size_t>(oc) * IC + ci) * K * K + t] += dwt[(static_cast<size_t>(t) * IC + ci) * OC + oc];
  }
};

struct Shape {
  const char* name;
  int H, IC, OC, K, S, P, per_step;  // per_step: how many such convs one cnn-digits step runs
  bool din;                           // the stem's input gradient is not needed
};

// cnn-digits: stem, stage 1 (one block, two 16->16 convs), stages 2 and 3 (stride-2 first conv, 1x1 projection)
const Shape kShapes[] = {
    {"stem 14x14 1->16", 14, 1, 16, 3, 1, 1, 1, false},
    {"stage1 14x14 16->16", 14, 16, 16, 3, 1, 1, 2, true},
    {"stage2 conv1 14x14 16->32 s2", 14, 16, 32, 3, 2, 1, 1, true},
    {"stage2 shortcut 1x1 16->32 s2", 14, 16, 32, 1, 2, 0, 1, true},
    {"stage2 conv2 7x7 32->32", 7, 32, 32, 3, 1, 1, 1, true},
    {"stage3 conv1 7x7 32->64 s2", 7, 32, 64, 3, 2, 1, 1, true},
    {"stage3 shortcut 1x1 32->64 s2", 7, 32, 64, 1, 2, 0, 1, true},
    {"stage3 conv2 4x4 64->64", 4, 64, 64, 3, 1, 1, 1, true},
};

float max_rel(const std::vector<float>& a, const std::vector<float>& b) {
  float scale = 0, d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::fabs(a[i]));
    d = std::max(d, std::fabs(a[i] - b[i]));
  }
  return scale > 0 ? d / scale : d;
}

struct Time {
  double median, min;
};

// median and fastest CPU ms of `reps` timed calls after 2 warm-up calls
template <class F>
Time time_ms(F&& f, int reps) {
  f();
  f();
  std::vector<double> t(reps);
  for (auto& x : t) {
    const double t0 = cpu_now_ms();
    f();
    x = cpu_now_ms() - t0;
  }
  std::sort(t.begin(), t.end());
  return {reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]), t[0]};
}

}  // namespace

int main(int argc, char** argv) {
  resnorm::configure_eigen();
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  const int B = 64;
  unsigned seed = 12345;
  auto rnd = [&] { seed = seed * 1664525u + 1013904223u; return static_cast<float>(seed >> 8) / 16777216.0f - 0.5f; };
  std::printf("{\"batch\":%d,\"reps\":%d,\"shapes\":[\n", B, reps);
  double tot[8] = {};  // {fwd, bwd} x {im2col, direct} x {median, min}
  bool first = true;
  for (const Shape& s : kShapes) {
    const int Ho = resnorm::conv2d_out_size(s.H, s.K, s.S, s.P);
    const size_t nin = static_cast<size_t>(B) * s.H * s.H * s.IC, nout = static_cast<size_t>(B) * Ho * Ho * s.OC;
    const size_t nw = static_cast<size_t>(s.OC) * s.IC * s.K * s.K, ncols = static_cast<size_t>(B) * Ho * Ho * s.IC * s.K * s.K;
    std::vector<float> in(nin), w(nw), dout(nout), out_a(nout), out_b(nout), cols(ncols), dcols(ncols);
    std::vector<float> din_a(nin), din_b(nin), dw_a(nw), dw_b(nw);
    for (auto& v : in) v = rnd();
    for (auto& v : w) v = rnd();
    for (auto& v : dout) v = rnd();
    Direct d;
    const Time f_im2col = time_ms([&] { resnorm::conv2d_forward(out_a.data(), cols.data(), in.data(), w.data(), B, s.H, s.H, s.IC, s.OC, s.K, s.S, s.P); }, reps);
    const Time f_direct = time_ms([&] { d.forward(out_b.data(), in.data(), w.data(), B, s.H, s.H, s.IC, s.OC, s.K, s.S, s.P); }, reps);
    float* dina = s.din ? din_a.data() : nullptr;
    float* dinb = s.din ? din_b.data() : nullptr;
    const Time b_im2col = time_ms([&] {
      std::fill(din_a.begin(), din_a.end(), 0.0f);
      std::fill(dw_a.begin(), dw_a.end(), 0.0f);
      resnorm::conv2d_backward(dina, dw_a.data(), cols.data(), dcols.data(), dout.data(), in.data(), w.data(), B, s.H, s.H, s.IC, s.OC, s.K, s.S, s.P);
    }, reps);
    const Time b_direct = time_ms([&] {
      std::fill(din_b.begin(), din_b.end(), 0.0f);
      std::fill(dw_b.begin(), dw_b.end(), 0.0f);
      d.backward(dinb, dw_b.data(), dout.data(), in.data(), w.data(), B, s.H, s.H, s.IC, s.OC, s.K, s.S, s.P);
    }, reps);
    const double gflop = 2.0 * nout * s.IC * s.K * s.K / 1e9;  // one product (forward); backward is two (one without din)
    const Time all[4] = {f_im2col, f_direct, b_im2col, b_direct};
    for (int i = 0; i < 4; ++i) {
      tot[2 * i] += s.per_step * all[i].median;
      tot[2 * i + 1] += s.per_step * all[i].min;
    }
    std::printf("%s {\"shape\":\"%s\",\"per_step\":%d,"
                "\"fwd_ms\":{\"im2col\":[%.4f,%.4f],\"direct\":[%.4f,%.4f]},"
                "\"bwd_ms\":{\"im2col\":[%.4f,%.4f],\"direct\":[%.4f,%.4f]},"
                "\"fwd_gflops_best\":{\"im2col\":%.2f,\"direct\":%.2f},"
                "\"max_rel_diff\":{\"out\":%.2e,\"din\":%.2e,\"dw\":%.2e}}\n",
                first ? "" : ",", s.name, s.per_step, f_im2col.median, f_im2col.min, f_direct.median, f_direct.min,
                b_im2col.median, b_im2col.min, b_direct.median, b_direct.min, gflop / f_im2col.min * 1e3,
                gflop / f_direct.min * 1e3, max_rel(out_a, out_b), s.din ? max_rel(din_a, din_b) : 0.0f,
                max_rel(dw_a, dw_b));
    first = false;
  }
  // per-shape times are [median, fastest]; the step totals weight each shape by how often a step runs it
  std::printf("],\"step_total_ms\":{\"fwd\":{\"im2col\":[%.3f,%.3f],\"direct\":[%.3f,%.3f]},"
              "\"bwd\":{\"im2col\":[%.3f,%.3f],\"direct\":[%.3f,%.3f]}}}\n",
              tot[0], tot[1], tot[2], tot[3], tot[4], tot[5], tot[6], tot[7]);
  return 0;
}

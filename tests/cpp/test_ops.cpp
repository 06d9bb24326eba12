// Every op's backward against central finite differences of its forward, plus a few known values.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "ops/ops.h"
#include "ops/v4.h"
#include "testing.h"

using namespace resnorm;
using namespace resnorm_test;

// Gradient checks: check_grad() in testing.h (Richardson-extrapolated central differences in float,
// relative to the tensor's own gradient, tolerance kGradTol = 0.5%; each check also proves that a
// 2% error in that gradient would be flagged).

TEST_CASE("linear backward matches finite differences", "[ops]") {
  const int N = 3, IC = 5, OC = 4;
  auto x = random_vec(N * IC, 1), w = random_vec(OC * IC, 2), b = random_vec(OC, 3), r = random_vec(N * OC, 4);
  std::vector<float> out(N * OC), dx(N * IC, 0.f), dw(OC * IC, 0.f), db(OC, 0.f);
  auto f = [&] { linear_forward(out.data(), x.data(), w.data(), b.data(), N, IC, OC); return dot(out.data(), r); };
  f();
  linear_backward(dx.data(), dw.data(), db.data(), r.data(), x.data(), w.data(), N, IC, OC);
  CHECK_GRAD("linear dx", check_grad(x, dx, f));
  CHECK_GRAD("linear dw", check_grad(w, dw, f));
  CHECK_GRAD("linear db", check_grad(b, db, f));
  // Known value: out[0,0] = sum_k x[0,k] w[0,k] + b[0]
  double ref = b[0];
  for (int k = 0; k < IC; ++k) ref += static_cast<double>(x[k]) * w[k];
  linear_forward(out.data(), x.data(), w.data(), b.data(), N, IC, OC);
  CHECK(out[0] == Approx(ref).epsilon(1e-5));
}

TEST_CASE("backward accumulates into gradients", "[ops]") {
  const int N = 2, IC = 3, OC = 2;
  auto x = random_vec(N * IC, 5), w = random_vec(OC * IC, 6), r = random_vec(N * OC, 7);
  std::vector<float> dw1(OC * IC, 0.f), dw2(OC * IC, 0.f);
  linear_backward(nullptr, dw1.data(), nullptr, r.data(), x.data(), w.data(), N, IC, OC);
  linear_backward(nullptr, dw2.data(), nullptr, r.data(), x.data(), w.data(), N, IC, OC);
  linear_backward(nullptr, dw2.data(), nullptr, r.data(), x.data(), w.data(), N, IC, OC);
  for (int i = 0; i < OC * IC; ++i) CHECK(dw2[i] == Approx(2 * dw1[i]));
}

TEST_CASE("embedding backward matches finite differences", "[ops]") {
  const int B = 2, T = 3, C = 4, V = 5;
  const std::vector<int> tok = {0, 3, 3, 1, 4, 0};
  auto wte = random_vec(V * C, 8), wpe = random_vec(T * C, 9), r = random_vec(B * T * C, 10);
  std::vector<float> out(B * T * C), dwte(V * C, 0.f), dwpe(T * C, 0.f);
  auto f = [&] { embedding_forward(out.data(), tok.data(), wte.data(), wpe.data(), B, T, C); return dot(out.data(), r); };
  f();
  embedding_backward(dwte.data(), dwpe.data(), r.data(), tok.data(), B, T, C);
  CHECK_GRAD("embedding dwte", check_grad(wte, dwte, f));
  CHECK_GRAD("embedding dwpe", check_grad(wpe, dwpe, f));
}

TEST_CASE("layernorm forward normalises and backward matches finite differences", "[ops]") {
  const int N = 4, C = 8;
  auto x = random_vec(N * C, 11, 3.0f), w = random_vec(C, 12), b = random_vec(C, 13), r = random_vec(N * C, 14);
  std::vector<float> out(N * C), mean(N), rstd(N), dx(N * C, 0.f), dw(C, 0.f), db(C, 0.f);
  std::vector<float> ones(C, 1.0f), zeros(C, 0.0f);
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), ones.data(), zeros.data(), N, C, 1e-5f);
  for (int i = 0; i < N; ++i) {
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) m += out[i * C + c];
    m /= C;
    for (int c = 0; c < C; ++c) v += (out[i * C + c] - m) * (out[i * C + c] - m);
    CHECK(m == Approx(0).margin(1e-5));
    CHECK(v / C == Approx(1).epsilon(1e-3));
  }
  auto f = [&] {
    layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
    return dot(out.data(), r);
  };
  f();
  layernorm_backward(dx.data(), dw.data(), db.data(), r.data(), x.data(), w.data(), mean.data(), rstd.data(), N, C);
  CHECK_GRAD("layernorm dx", check_grad(x, dx, f));
  CHECK_GRAD("layernorm dw", check_grad(w, dw, f));
  CHECK_GRAD("layernorm db", check_grad(b, db, f));
}

TEST_CASE("layernorm eps keeps a constant row finite", "[ops]") {
  const int C = 6;
  std::vector<float> x(C, 2.5f), w(C, 1.f), b(C, 0.f), out(C), mean(1), rstd(1);
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), 1, C, 1e-5f);
  for (float v : out) CHECK(v == 0.0f);
  CHECK(rstd[0] == Approx(1.0 / std::sqrt(1e-5)).epsilon(1e-4));
}

TEST_CASE("rmsnorm forward and backward", "[ops]") {
  const int N = 3, C = 8;
  auto x = random_vec(N * C, 15, 2.0f), w = random_vec(C, 16), r = random_vec(N * C, 17);
  std::vector<float> out(N * C), rstd(N), dx(N * C, 0.f), dw(C, 0.f);
  auto f = [&] { rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, 1e-5f); return dot(out.data(), r); };
  f();
  double ms = 0;
  for (int c = 0; c < C; ++c) ms += static_cast<double>(x[c]) * x[c];
  CHECK(rstd[0] == Approx(1.0 / std::sqrt(ms / C + 1e-5)).epsilon(1e-5));
  rmsnorm_backward(dx.data(), dw.data(), r.data(), x.data(), w.data(), rstd.data(), N, C);
  CHECK_GRAD("rmsnorm dx", check_grad(x, dx, f));
  CHECK_GRAD("rmsnorm dw", check_grad(w, dw, f));
}

TEST_CASE("activations forward and backward", "[ops]") {
  const size_t n = 40;
  for (Activation act : {Activation::Relu, Activation::Tanh, Activation::Gelu}) {
    INFO("activation " << to_string(act));
    auto x = random_vec(n, 18, 2.0f), r = random_vec(n, 19);
    for (auto& v : x)
      if (std::fabs(v) < 0.05f) v = 0.3f;  // keep ReLU's kink out of the finite-difference stencil
    std::vector<float> out(n), dx(n, 0.f);
    auto f = [&] { activation_forward(out.data(), x.data(), n, act); return dot(out.data(), r); };
    f();
    activation_backward(dx.data(), r.data(), x.data(), n, act);
    CHECK_GRAD(std::string("activation ") + to_string(act) + " dx", check_grad(x, dx, f, 1e-2f));
  }
  // GELU (tanh approximation) at x = 1: 0.5 * (1 + tanh(sqrt(2/pi) * 1.044715)) = 0.841192
  float one = 1.0f, out = 0.0f;
  activation_forward(&out, &one, 1, Activation::Gelu);
  CHECK(out == Approx(0.8411920).epsilon(1e-5));
  // Against the documented formula in double (PyTorch docs, torch.nn.GELU(approximate='tanh'):
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))) on the negative tail, where the cubic term
  // decides the value: a constant off by 3e-4 (0.0447) moves GELU(-2.5) by 4e-4 relative, the
  // float computation stays within ~2e-5 of it.
  const std::vector<float> xs = {-3.0f, -2.5f, -2.0f, -1.0f, -0.5f, 0.5f, 2.0f, 3.0f};
  std::vector<float> ys(xs.size());
  activation_forward(ys.data(), xs.data(), xs.size(), Activation::Gelu);
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i];
    const double ref = 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / 3.141592653589793) * (x + 0.044715 * x * x * x)));
    INFO("GELU(" << x << ") = " << ys[i] << ", formula " << ref);
    CHECK(std::fabs(ys[i] - ref) <= 5e-5 * std::fabs(ref));
  }
}

TEST_CASE("causal attention: backward, masking and a known value", "[ops]") {
  const int B = 2, T = 5, C = 8, H = 2;
  auto qkv = random_vec(B * T * 3 * C, 20), r = random_vec(B * T * C, 21);
  std::vector<float> out(B * T * C), att(B * H * T * T), dqkv(B * T * 3 * C, 0.f), scratch(T * T);
  auto f = [&] { attention_forward(out.data(), att.data(), qkv.data(), B, T, C, H); return dot(out.data(), r); };
  f();
  attention_backward(dqkv.data(), scratch.data(), r.data(), qkv.data(), att.data(), B, T, C, H);
  CHECK_GRAD("attention dqkv", check_grad(qkv, dqkv, f, 1e-2f, 400));
  // Rows sum to one; the future gets zero weight.
  for (int bh = 0; bh < B * H; ++bh)
    for (int t = 0; t < T; ++t) {
      double s = 0;
      for (int j = 0; j < T; ++j) {
        const float p = att[(bh * T + t) * T + j];
        if (j > t) CHECK(p == 0.0f);
        s += p;
      }
      CHECK(s == Approx(1.0).epsilon(1e-5));
    }
  // The first position can only attend to itself: its output is its own value vector.
  for (int c = 0; c < C; ++c) CHECK(out[c] == Approx(qkv[2 * C + c]).epsilon(1e-5));
  // Entropy of the first row is 0; of a uniform row over t+1 keys it is log(t+1).
  std::vector<float> ent(H);
  std::vector<float> uniform(static_cast<size_t>(1 * H * T * T), 0.f);
  for (int h = 0; h < H; ++h)
    for (int t = 0; t < T; ++t)
      for (int j = 0; j <= t; ++j) uniform[(h * T + t) * T + j] = 1.0f / (t + 1);
  for (int h = 0; h < H; ++h) ent[static_cast<size_t>(h)] = attention_entropy_head(uniform.data(), 1, T, H, h);
  double expect = 0;
  for (int t = 0; t < T; ++t) expect += std::log(t + 1.0);
  CHECK(ent[0] == Approx(expect / T).epsilon(1e-5));
}

// Attention written out in double, loop by loop, from the formulas (Vaswani et al. 2017): the reference for
// the op's blocked, causal-skipping GEMM path (issue 24) at shapes where that path has several query blocks,
// a partial last block, a partial 4-row tile and head widths that are not a multiple of 4.
// out = softmax(q k^T / sqrt(hd) + causal mask) v; backward adds dq, dk, dv into dqkv.
static void attention_reference(std::vector<double>& out, std::vector<double>& att, std::vector<double>& dqkv,
                                const std::vector<float>& qkv, const std::vector<float>& dout, int B, int T, int C, int H) {
  const int hd = C / H;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  out.assign(static_cast<size_t>(B) * T * C, 0.0);
  att.assign(static_cast<size_t>(B) * H * T * T, 0.0);
  dqkv.assign(static_cast<size_t>(B) * T * 3 * C, 0.0);
  auto Q = [&](int b, int t, int h, int part, int d) { return static_cast<size_t>((b * T + t) * 3 * C + part * C + h * hd + d); };
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      std::vector<double> p(static_cast<size_t>(T) * T, 0.0), dp(static_cast<size_t>(T) * T, 0.0);
      for (int t = 0; t < T; ++t) {
        double mx = -1e300, sum = 0;
        for (int j = 0; j <= t; ++j) {
          double s = 0;
          for (int d = 0; d < hd; ++d) s += static_cast<double>(qkv[Q(b, t, h, 0, d)]) * qkv[Q(b, j, h, 1, d)];
          p[t * T + j] = s * scale;
          mx = std::max(mx, s * scale);
        }
        for (int j = 0; j <= t; ++j) sum += (p[t * T + j] = std::exp(p[t * T + j] - mx));
        for (int j = 0; j <= t; ++j) p[t * T + j] /= sum;
        for (int d = 0; d < hd; ++d) {
          double o = 0;
          for (int j = 0; j <= t; ++j) o += p[t * T + j] * qkv[Q(b, j, h, 2, d)];
          out[static_cast<size_t>((b * T + t) * C + h * hd + d)] = o;
        }
      }
      std::copy(p.begin(), p.end(), att.begin() + static_cast<std::ptrdiff_t>((b * H + h) * T * T));
      auto dy = [&](int t, int d) { return static_cast<double>(dout[static_cast<size_t>((b * T + t) * C + h * hd + d)]); };
      for (int t = 0; t < T; ++t) {
        double rowdot = 0;
        for (int j = 0; j <= t; ++j) {
          double g = 0;  // dP[t, j] = dO[t] . v[j]
          for (int d = 0; d < hd; ++d) g += dy(t, d) * qkv[Q(b, j, h, 2, d)];
          dp[t * T + j] = g;
          rowdot += g * p[t * T + j];
        }
        for (int j = 0; j <= t; ++j) {
          const double ds = p[t * T + j] * (dp[t * T + j] - rowdot) * scale;
          for (int d = 0; d < hd; ++d) {
            dqkv[Q(b, t, h, 0, d)] += ds * qkv[Q(b, j, h, 1, d)];
            dqkv[Q(b, j, h, 1, d)] += ds * qkv[Q(b, t, h, 0, d)];
            dqkv[Q(b, j, h, 2, d)] += p[t * T + j] * dy(t, d);
          }
        }
      }
    }
}

// Largest |x - ref| over the largest |ref|.
static double rel_err(const float* x, const std::vector<double>& ref) {
  double e = 0, m = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    e = std::max(e, std::fabs(x[i] - ref[i]));
    m = std::max(m, std::fabs(ref[i]));
  }
  return e / m;
}

TEST_CASE("causal attention equals its double-precision formula at several query blocks and odd head widths", "[ops]") {
  struct Shape { int B, T, C, H; };
  for (const Shape s : {Shape{2, 37, 24, 3}, Shape{1, 64, 32, 4}, Shape{2, 19, 15, 3}, Shape{1, 5, 8, 2}}) {
    INFO("B=" << s.B << " T=" << s.T << " C=" << s.C << " H=" << s.H);
    const size_t nqkv = static_cast<size_t>(s.B) * s.T * 3 * s.C, nout = static_cast<size_t>(s.B) * s.T * s.C;
    auto qkv = random_vec(nqkv, 40 + s.T, 1.5f), dout = random_vec(nout, 41 + s.T), dqkv = random_vec(nqkv, 42 + s.T);
    const std::vector<float> dqkv0 = dqkv;  // backward adds into what is there
    std::vector<float> out(nout), att(static_cast<size_t>(s.B) * s.H * s.T * s.T, -7.f), scratch(static_cast<size_t>(s.T) * s.T, -7.f);
    std::fill(out.begin(), out.end(), -7.f);  // stale values must not leak into the result
    attention_forward(out.data(), att.data(), qkv.data(), s.B, s.T, s.C, s.H);
    attention_backward(dqkv.data(), scratch.data(), dout.data(), qkv.data(), att.data(), s.B, s.T, s.C, s.H);
    std::vector<double> rout, ratt, rd;
    attention_reference(rout, ratt, rd, qkv, dout, s.B, s.T, s.C, s.H);
    for (size_t i = 0; i < nqkv; ++i) dqkv[i] -= dqkv0[i];
    CHECK(rel_err(out.data(), rout) < 1e-5);
    CHECK(rel_err(att.data(), ratt) < 1e-5);
    CHECK(rel_err(dqkv.data(), rd) < 1e-5);
    for (size_t i = 0; i < att.size(); ++i)  // the mask: exact zeros above the diagonal
      if (static_cast<int>(i % s.T) > static_cast<int>(i / s.T % s.T)) REQUIRE(att[i] == 0.0f);
  }
}

TEST_CASE("cross-entropy forward and backward", "[ops]") {
  const int N = 4, V = 6;
  auto z = random_vec(N * V, 22, 2.0f);
  const std::vector<int> y = {0, 5, 2, 2};
  std::vector<float> probs(N * V), dz(N * V, 0.f);
  auto f = [&] { return cross_entropy_forward(probs.data(), z.data(), y.data(), N, V); };
  f();
  cross_entropy_backward(dz.data(), probs.data(), y.data(), N, V);
  CHECK_GRAD("cross_entropy dz", check_grad(z, dz, f));
  // Uniform logits: loss = log(V).
  std::vector<float> flat(N * V, 3.0f);
  CHECK(cross_entropy_forward(probs.data(), flat.data(), y.data(), N, V) == Approx(std::log(6.0)).epsilon(1e-6));
  // Large logits do not overflow.
  flat[0] = 1e30f;
  CHECK(std::isfinite(cross_entropy_forward(probs.data(), flat.data(), y.data(), N, V)));
}

TEST_CASE("residual variants forward and backward", "[ops]") {
  const size_t n = 12;
  for (Residual kind : {Residual::None, Residual::Identity, Residual::ReZero, Residual::DeepNorm, Residual::Doubled}) {
    INFO("residual " << to_string(kind));
    auto x = random_vec(n, 23), fv = random_vec(n, 24), r = random_vec(n, 25);
    std::vector<float> a = {0.7f};
    std::vector<float> out(n), dx(n, 0.f), df(n, 0.f), da(1, 0.f);
    auto f = [&] { residual_forward(out.data(), x.data(), fv.data(), n, kind, a[0]); return dot(out.data(), r); };
    f();
    residual_backward(dx.data(), df.data(), da.data(), r.data(), fv.data(), n, kind, a[0]);
    CHECK_GRAD(std::string("residual ") + to_string(kind) + " dx", check_grad(x, dx, f));
    CHECK_GRAD(std::string("residual ") + to_string(kind) + " df", check_grad(fv, df, f));
    if (kind == Residual::ReZero) CHECK_GRAD(std::string("residual ") + to_string(kind) + " da", check_grad(a, da, f));
    // identity: out = x + f exactly
    if (kind == Residual::Identity) CHECK(out[3] == x[3] + fv[3]);
    // doubled: the article's `return x + x`, no shortcut: out = 2 f, independent of x
    if (kind == Residual::Doubled) CHECK(out[3] == 2.0f * fv[3]);
  }
}

// ---- the cnn's ops (issue 11)

// Direct NHWC convolution in double, straight from the definition (PyTorch's Conv2d docs:
// out[b,oh,ow,o] = sum_{c,kh,kw} w[o,c,kh,kw] in[b, oh*S-P+kh, ow*S-P+kw, c]), the reference for im2col + GEMM.
static std::vector<double> conv_reference(const std::vector<float>& x, const std::vector<float>& w, int B, int H, int W,
                                          int IC, int OC, int K, int S, int P) {
  const int Ho = conv2d_out_size(H, K, S, P), Wo = conv2d_out_size(W, K, S, P);
  std::vector<double> out(static_cast<size_t>(B) * Ho * Wo * OC, 0.0);
  for (int b = 0; b < B; ++b)
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow)
        for (int o = 0; o < OC; ++o) {
          double s = 0;
          for (int c = 0; c < IC; ++c)
            for (int kh = 0; kh < K; ++kh)
              for (int kw = 0; kw < K; ++kw) {
                const int ih = oh * S - P + kh, iw = ow * S - P + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += static_cast<double>(w[((o * IC + c) * K + kh) * K + kw]) * x[((b * H + ih) * W + iw) * IC + c];
              }
          out[((static_cast<size_t>(b) * Ho + oh) * Wo + ow) * OC + o] = s;
        }
  return out;
}

TEST_CASE("conv2d (im2col + GEMM) against the definition and finite differences", "[ops]") {
  struct Shape { int B, H, W, IC, OC, K, S, P; };
  // 3x3 same-padding, 3x3 stride 2 (odd input: the last row/column is dropped), 1x1 stride-2 projection;
  // then the same with wider inputs (8 and 6 channels), as the presets' convs have (16 and more).
  for (const Shape sh : {Shape{2, 5, 5, 3, 4, 3, 1, 1}, Shape{2, 7, 5, 2, 3, 3, 2, 1}, Shape{2, 6, 6, 3, 5, 1, 2, 0},
                         Shape{2, 5, 5, 8, 4, 3, 1, 1}, Shape{2, 7, 6, 6, 3, 3, 2, 1}, Shape{1, 4, 4, 8, 3, 1, 2, 0}}) {
    INFO("conv B" << sh.B << " " << sh.H << "x" << sh.W << " " << sh.IC << "->" << sh.OC << " K" << sh.K << " S" << sh.S);
    const int Ho = conv2d_out_size(sh.H, sh.K, sh.S, sh.P), Wo = conv2d_out_size(sh.W, sh.K, sh.S, sh.P);
    const size_t nin = static_cast<size_t>(sh.B) * sh.H * sh.W * sh.IC, nout = static_cast<size_t>(sh.B) * Ho * Wo * sh.OC;
    const size_t ncols = static_cast<size_t>(sh.B) * Ho * Wo * sh.IC * sh.K * sh.K;
    auto x = random_vec(nin, 40), w = random_vec(static_cast<size_t>(sh.OC) * sh.IC * sh.K * sh.K, 41), r = random_vec(nout, 42);
    std::vector<float> out(nout), cols(ncols), dcols(ncols), dx(nin, 0.f), dw(w.size(), 0.f);
    auto f = [&] {
      conv2d_forward(out.data(), cols.data(), x.data(), w.data(), sh.B, sh.H, sh.W, sh.IC, sh.OC, sh.K, sh.S, sh.P);
      return dot(out.data(), r);
    };
    f();
    const auto ref = conv_reference(x, w, sh.B, sh.H, sh.W, sh.IC, sh.OC, sh.K, sh.S, sh.P);
    double worst = 0;
    for (size_t i = 0; i < nout; ++i) worst = std::max(worst, std::fabs(out[i] - ref[i]) / (1.0 + std::fabs(ref[i])));
    CHECK(worst < 1e-5);
    conv2d_backward(dx.data(), dw.data(), cols.data(), dcols.data(), r.data(), x.data(), w.data(), sh.B, sh.H, sh.W, sh.IC,
                    sh.OC, sh.K, sh.S, sh.P);
    CHECK_GRAD("conv2d dx", check_grad(x, dx, f, 1e-2f, 200));
    CHECK_GRAD("conv2d dw", check_grad(w, dw, f, 1e-2f, 200));
  }
}

TEST_CASE("global average pooling forward and backward", "[ops]") {
  const int B = 3, HW = 6, C = 4;
  auto x = random_vec(B * HW * C, 43), r = random_vec(B * C, 44);
  std::vector<float> out(B * C), dx(B * HW * C, 0.f);
  auto f = [&] { global_avgpool_forward(out.data(), x.data(), B, HW, C); return dot(out.data(), r); };
  f();
  double m = 0;
  for (int p = 0; p < HW; ++p) m += x[static_cast<size_t>((2 * HW + p) * C + 1)];
  CHECK(out[2 * C + 1] == Approx(m / HW).epsilon(1e-5));
  global_avgpool_backward(dx.data(), r.data(), B, HW, C);
  CHECK_GRAD("avgpool dx", check_grad(x, dx, f));
}

TEST_CASE("batchnorm: train-mode statistics, running statistics as PyTorch, eval mode, backward", "[ops]") {
  const int N = 10, C = 4;
  auto x = random_vec(N * C, 45, 2.0f), w = random_vec(C, 46), b = random_vec(C, 47), r = random_vec(N * C, 48);
  for (int i = 0; i < N; ++i) x[static_cast<size_t>(i * C + 2)] += 3.0f;  // a channel with a non-zero mean
  std::vector<float> out(N * C), mean(C), rstd(C), rm(C, 0.f), rv(C, 1.f), dx(N * C, 0.f), dw(C, 0.f), db(C, 0.f), scratch(2 * C);
  batchnorm_forward(out.data(), mean.data(), rstd.data(), rm.data(), rv.data(), x.data(), w.data(), b.data(), N, C, 1e-5f,
                    0.1f, true);
  for (int c = 0; c < C; ++c) {
    double m = 0, v = 0;
    for (int i = 0; i < N; ++i) m += x[static_cast<size_t>(i * C + c)];
    m /= N;
    for (int i = 0; i < N; ++i) v += (x[static_cast<size_t>(i * C + c)] - m) * (x[static_cast<size_t>(i * C + c)] - m);
    CHECK(mean[c] == Approx(m).epsilon(1e-5));
    CHECK(rstd[c] == Approx(1.0 / std::sqrt(v / N + 1e-5)).epsilon(1e-4));
    // PyTorch's update: running = 0.9 running + 0.1 batch, the variance unbiased (v / (N - 1)).
    CHECK(rm[c] == Approx(0.1 * m).epsilon(1e-5));
    CHECK(rv[c] == Approx(0.9 + 0.1 * v / (N - 1)).epsilon(1e-5));
    CHECK(out[static_cast<size_t>(c)] == Approx((x[static_cast<size_t>(c)] - m) / std::sqrt(v / N + 1e-5) * w[c] + b[c]).epsilon(1e-4));
  }
  // Eval mode reads the running statistics and changes nothing.
  const auto rm0 = rm, rv0 = rv;
  batchnorm_forward(out.data(), mean.data(), rstd.data(), rm.data(), rv.data(), x.data(), w.data(), b.data(), N, C, 1e-5f,
                    0.1f, false);
  CHECK(rm == rm0);
  CHECK(rv == rv0);
  CHECK(out[5] == Approx((x[5] - rm[1]) / std::sqrt(rv[1] + 1e-5) * w[1] + b[1]).epsilon(1e-5));
  // Backward (train mode); the running statistics do not enter the loss.
  auto f = [&] {
    batchnorm_forward(out.data(), mean.data(), rstd.data(), rm.data(), rv.data(), x.data(), w.data(), b.data(), N, C,
                      1e-5f, 0.1f, true);
    return dot(out.data(), r);
  };
  f();
  batchnorm_backward(dx.data(), dw.data(), db.data(), scratch.data(), r.data(), x.data(), w.data(), mean.data(), rstd.data(),
                     N, C);
  CHECK_GRAD("batchnorm dx", check_grad(x, dx, f));
  CHECK_GRAD("batchnorm dw", check_grad(w, dw, f));
  CHECK_GRAD("batchnorm db", check_grad(b, db, f));
}

// The four-float e^x behind attention's softmax in the wasm and native-sse builds (cpp/core/ops/v4.h),
// against the double-precision function over its whole float range: within 1.8e-7 relative (1.5 ulp),
// the limits finite, NaN kept.
TEST_CASE("four-float exp matches the double-precision function", "[ops]") {
  using namespace resnorm::simd;
  double worst_exp = 0.0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f + 175.0f * static_cast<float>(i) / 200000.0f;
    float e[4];
    store(e, resnorm::simd::exp(splat(x)));
    worst_exp = std::max(worst_exp, std::fabs(e[0] - std::exp(static_cast<double>(x))) / std::exp(static_cast<double>(x)));
    REQUIRE(e[1] == e[0]);  // every lane alike
  }
  INFO("worst exp relative error " << worst_exp);
  CHECK(worst_exp <= 3 * 5.96e-8);  // 7.8e-8 measured
  float lim[4];
  store(lim, resnorm::simd::exp(v4{-1000.0f, 1000.0f, 0.0f, -0.0f}));
  CHECK(lim[0] >= 0.0f);
  CHECK(lim[0] < 1e-37f);
  CHECK(std::isfinite(lim[1]));
  CHECK(lim[1] > 1e38f);
  CHECK(lim[2] == 1.0f);
  CHECK(lim[3] == 1.0f);
  store(lim, resnorm::simd::exp(v4{std::numeric_limits<float>::quiet_NaN(), 1.0f, -1.0f, 88.0f}));
  CHECK(std::isnan(lim[0]));
  CHECK(lim[1] == Approx(2.718281828).epsilon(2e-7));
  CHECK(lim[2] == Approx(0.367879441).epsilon(2e-7));
  CHECK(std::isfinite(lim[3]));
}

// GELU on a dense sweep against the formula in double (the spot checks above cover the constants):
// within float rounding of 1 + tanh, scaled by |x| / 2; its derivative likewise.
TEST_CASE("GELU and its derivative over [-10, 10] against the formula in double", "[ops]") {
  std::vector<float> xs(4003), ys(xs.size()), dxs(xs.size(), 0.0f), ones(xs.size(), 1.0f);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = -10.0f + 20.0f * static_cast<float>(i) / 4002.0f;
  activation_forward(ys.data(), xs.data(), xs.size(), Activation::Gelu);
  activation_backward(dxs.data(), ones.data(), xs.data(), xs.size(), Activation::Gelu);
  const double k = std::sqrt(2.0 / 3.141592653589793);
  for (size_t i = 0; i < xs.size(); ++i) {
    const double x = xs[i], u = k * (x + 0.044715 * x * x * x), t = std::tanh(u);
    const double y = 0.5 * x * (1.0 + t);
    const double dy = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * x * x);
    INFO("x = " << x << ": GELU " << ys[i] << " vs " << y << ", GELU' " << dxs[i] << " vs " << dy);
    REQUIRE(std::fabs(ys[i] - y) <= 4e-7 * std::max(1.0, std::fabs(x)));
    REQUIRE(std::fabs(dxs[i] - dy) <= 2e-6 * std::max(1.0, x * x));
  }
}

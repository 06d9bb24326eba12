// The residual connection variants, forward and backward.
//   identity: He et al. 2016.  rezero: Bachlechner et al. 2020 (a learned, starts at 0).
//   deepnorm: Wang et al. 2022, alpha * x + f (the following norm comes from the placement).
//   doubled: f + f, the article's bug (`x = conv1(x); x = conv2(x); return x + x`): no shortcut.
#include "eigen_maps.h"
#include "ops.h"
#include "../parallel.h"

namespace resnorm {

namespace {
void forward_whole(float* out, const float* x, const float* f, size_t n, Residual kind, float a) {
  const auto len = static_cast<Eigen::Index>(n);
  CMapArr xs(x, len), fs(f, len);
  MapArr y(out, len);
  switch (kind) {
    case Residual::None: y = fs; break;
    case Residual::Identity: y = xs + fs; break;
    case Residual::ReZero: y = xs + a * fs; break;
    case Residual::DeepNorm: y = a * xs + fs; break;
    case Residual::Doubled: y = fs + fs; break;
  }
}

void backward_whole(float* dx, float* df, float* da, const float* dout, const float* f, size_t n, Residual kind,
                    float a) {
  const auto len = static_cast<Eigen::Index>(n);
  CMapArr dy(dout, len);
  MapArr dxs(dx, len), dfs(df, len);
  switch (kind) {
    case Residual::None: dfs += dy; break;
    case Residual::Identity: dxs += dy; dfs += dy; break;
    case Residual::ReZero:
      dxs += dy;
      dfs += a * dy;
      if (da) *da += (dy * CMapArr(f, len)).sum();
      break;
    case Residual::DeepNorm: dxs += a * dy; dfs += dy; break;
    case Residual::Doubled: dfs += 2.0f * dy; break;
  }
}

}  // namespace

// With more than one thread, long arrays run on the pool in pieces (parallel_elementwise), except
// ReZero's backward when it sums da (a reduction over every element: it stays whole).
void residual_forward(float* out, const float* x, const float* f, size_t n, Residual kind, float a) {
  parallel_elementwise(n, {out, x, f}, [&](size_t o, size_t k) { forward_whole(out + o, x + o, f + o, k, kind, a); });
}

void residual_backward(float* dx, float* df, float* da, const float* dout, const float* f, size_t n, Residual kind,
                       float a) {
  if (da && kind == Residual::ReZero) return backward_whole(dx, df, da, dout, f, n, kind, a);
  parallel_elementwise(n, {dx, df, dout}, [&](size_t o, size_t k) {
    backward_whole(dx ? dx + o : nullptr, df + o, nullptr, dout + o, f ? f + o : nullptr, k, kind, a);
  });
}

}  // namespace resnorm

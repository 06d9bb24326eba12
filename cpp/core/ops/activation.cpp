// Pointwise activations, forward and backward. GELU is the tanh approximation
// (Hendrycks & Gimpel 2016), the one PyTorch computes with approximate='tanh'. With more than one
// thread, long arrays run on the pool in pieces (parallel_elementwise; GELU's backward steps by 256
// elements, which the pieces' 256-float multiples keep).
#include <algorithm>

#include "../parallel.h"
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluC = 0.044715f;

void forward_whole(float* out, const float* in, size_t n, Activation act) {
  CMapArr x(in, static_cast<Eigen::Index>(n));
  MapArr y(out, static_cast<Eigen::Index>(n));
  switch (act) {
    case Activation::Relu: y = x.max(0.0f); break;
    case Activation::Tanh: y = x.tanh(); break;
    case Activation::Gelu: y = 0.5f * x * (1.0f + (kSqrt2OverPi * (x + kGeluC * x.cube())).tanh()); break;
  }
}

void backward_whole(float* din, const float* dout, const float* in, size_t n, Activation act) {
  const auto len = static_cast<Eigen::Index>(n);
  CMapArr x(in, len), dy(dout, len);
  MapArr dx(din, len);
  switch (act) {
    case Activation::Relu:
      // A plain loop that compilers vectorise (compare + select; dout is loaded unconditionally so that
      // they may); Eigen 3.4's select() is scalar and branchy. Same arithmetic: dx + dy or dx + 0.
      for (Eigen::Index i = 0; i < len; ++i) {
        const float g = dout[i];
        din[i] += in[i] > 0.0f ? g : 0.0f;
      }
      break;
    case Activation::Tanh: dx += dy * (1.0f - x.tanh().square()); break;
    case Activation::Gelu: {
      // tanh is computed once per element into a stack chunk (no heap allocation in a train step).
      constexpr Eigen::Index kChunk = 256;
      Eigen::Array<float, kChunk, 1> tbuf;
      for (Eigen::Index i = 0; i < len; i += kChunk) {
        const Eigen::Index m = std::min(kChunk, len - i);
        auto xs = x.segment(i, m);
        auto t = tbuf.head(m);
        t = (kSqrt2OverPi * (xs + kGeluC * xs.cube())).tanh();
        dx.segment(i, m) += dy.segment(i, m) *
                            (0.5f * (1.0f + t) + 0.5f * xs * (1.0f - t.square()) * kSqrt2OverPi * (1.0f + 3.0f * kGeluC * xs.square()));
      }
      break;
    }
  }
}

}  // namespace

void activation_forward(float* out, const float* in, size_t n, Activation act) {
  parallel_elementwise(n, {out, in}, [&](size_t off, size_t len) { forward_whole(out + off, in + off, len, act); });
}

void activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act) {
  parallel_elementwise(n, {din, dout, in},
                       [&](size_t off, size_t len) { backward_whole(din + off, dout + off, in + off, len, act); });
}

}  // namespace resnorm

// Pointwise activations, forward and backward. GELU is the tanh approximation
// (Hendrycks & Gimpel 2016), the one PyTorch computes with approximate='tanh'.
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluC = 0.044715f;
}  // namespace

void activation_forward(float* out, const float* in, size_t n, Activation act) {
  CMapArr x(in, static_cast<Eigen::Index>(n));
  MapArr y(out, static_cast<Eigen::Index>(n));
  switch (act) {
    case Activation::Relu: y = x.max(0.0f); break;
    case Activation::Tanh: y = x.tanh(); break;
    case Activation::Gelu: y = 0.5f * x * (1.0f + (kSqrt2OverPi * (x + kGeluC * x.cube())).tanh()); break;
  }
}

void activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act) {
  const auto len = static_cast<Eigen::Index>(n);
  CMapArr x(in, len), dy(dout, len);
  MapArr dx(din, len);
  switch (act) {
    case Activation::Relu: dx += (x > 0.0f).select(dy, 0.0f); break;
    case Activation::Tanh: dx += dy * (1.0f - x.tanh().square()); break;
    case Activation::Gelu: {
      const Eigen::ArrayXf t = (kSqrt2OverPi * (x + kGeluC * x.cube())).tanh();
      dx += dy * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t.square()) * kSqrt2OverPi * (1.0f + 3.0f * kGeluC * x.square()));
      break;
    }
  }
}

}  // namespace resnorm

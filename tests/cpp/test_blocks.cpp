// Whole-model gradient checks for every block setting: residual x norm x placement, for the MLP
// and the transformer, against central finite differences of the model's own loss.
#include <catch2/catch.hpp>

#include "model.h"
#include "testing.h"

using namespace resnorm;
using namespace resnorm_test;

namespace {

// Worst relative error over up to `per_slice` elements of every parameter slice.
double model_grad_error(Model& m, const float* points, const int* tokens, const int* targets, int B, int T,
                        std::string& worst_name, int per_slice = 4, float h = 1e-2f) {
  m.zero_grad();
  m.forward(points, tokens, targets, B, T);
  m.backward();
  const std::vector<float> g(m.grads(), m.grads() + m.num_params());
  double worst = 0.0;
  for (const Slice& s : m.slices()) {
    const size_t stride = std::max<size_t>(1, s.size / per_slice);
    for (size_t i = 0; i < s.size; i += stride) {
      float& p = m.params()[s.offset + i];
      const float keep = p;
      const double ana = g[s.offset + i];
      // Two step sizes: a large one is exact enough for smooth settings, a small one for the
      // badly conditioned ones (e.g. a post-norm over a near-constant branch); either must agree.
      double err = 1e30;
      for (const float step : {h, h / 5, h / 25}) {
        p = keep + step;
        const double up = m.forward(points, tokens, targets, B, T);
        p = keep - step;
        const double down = m.forward(points, tokens, targets, B, T);
        p = keep;
        const double num = (up - down) / (2.0 * step);
        err = std::min(err, std::fabs(num - ana) / std::max(std::fabs(num) + std::fabs(ana), 2e-2));
      }
      if (err > worst) { worst = err; worst_name = s.name + "[" + std::to_string(i) + "]"; }
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("mlp gradients match finite differences for every block setting", "[blocks]") {
  const int B = 5;
  auto pts = random_vec(2 * B, 31);
  const std::vector<int> y = {0, 1, 1, 0, 1};
  for (Residual res : kResiduals)
    for (NormKind norm : kNorms)
      for (Placement pl : kPlacements) {
        ModelConfig mc;
        mc.kind = ModelKind::Mlp;
        mc.depth = 3;
        mc.width = 6;
        mc.activation = Activation::Tanh;  // smooth, so finite differences are exact enough
        mc.residual = res;
        mc.norm = norm;
        mc.placement = pl;
        Model m(mc, 2, 8);
        m.init(3);
        perturb(m.params(), m.slices());
        std::string where;
        const double err = model_grad_error(m, pts.data(), nullptr, y.data(), B, 1, where);
        INFO(to_string(res) << " x " << to_string(norm) << " x " << to_string(pl) << ": worst " << err << " at " << where);
        CHECK(err < 3e-2);
      }
}

TEST_CASE("gpt gradients match finite differences for every block setting", "[blocks]") {
  const int B = 2, T = 4, V = 5;
  const std::vector<int> tok = {0, 1, 2, 3, 4, 4, 2, 1}, tgt = {1, 2, 3, 4, 0, 2, 1, 3};
  for (Residual res : kResiduals)
    for (NormKind norm : kNorms)
      for (Placement pl : kPlacements) {
        ModelConfig mc;
        mc.kind = ModelKind::Gpt;
        mc.depth = 2;
        mc.width = 8;
        mc.heads = 2;
        mc.context = T;
        mc.residual = res;
        mc.norm = norm;
        mc.placement = pl;
        Model m(mc, V, B * T);
        m.init(5);
        perturb(m.params(), m.slices());
        std::string where;
        const double err = model_grad_error(m, nullptr, tok.data(), tgt.data(), B, T, where, 3, 2e-3f);
        INFO(to_string(res) << " x " << to_string(norm) << " x " << to_string(pl) << ": worst " << err << " at " << where);
        CHECK(err < 5e-2);
      }
}

TEST_CASE("block settings change the computation as documented", "[blocks]") {
  // With residual none and no norm, an MLP block is just act(W x + b): depth 1 equals a manual two-layer net.
  ModelConfig mc;
  mc.kind = ModelKind::Mlp;
  mc.depth = 1;
  mc.width = 3;
  mc.activation = Activation::Relu;
  mc.residual = Residual::None;
  mc.norm = NormKind::None;
  Model m(mc, 2, 4);
  m.init(1);
  const float pt[2] = {0.3f, -0.8f};
  m.forward(pt, nullptr, nullptr, 1, 1);
  auto P = [&](const char* n) { return m.params() + m.find(n)->offset; };
  float h0[3], h1[3], z[2];
  for (int i = 0; i < 3; ++i) h0[i] = P("stem.weight")[2 * i] * pt[0] + P("stem.weight")[2 * i + 1] * pt[1] + P("stem.bias")[i];
  for (int i = 0; i < 3; ++i) {
    float s = P("blocks.0.mlp.fc.bias")[i];
    for (int k = 0; k < 3; ++k) s += P("blocks.0.mlp.fc.weight")[3 * i + k] * h0[k];
    h1[i] = std::max(0.0f, s);
  }
  for (int i = 0; i < 2; ++i) {
    z[i] = P("head.bias")[i];
    for (int k = 0; k < 3; ++k) z[i] += P("head.weight")[3 * i + k] * h1[k];
  }
  CHECK(m.logits()[0] == Approx(z[0]).epsilon(1e-5));
  CHECK(m.logits()[1] == Approx(z[1]).epsilon(1e-5));

  // ReZero starts as the identity map: every block passes its input through unchanged.
  mc.residual = Residual::ReZero;
  mc.depth = 4;
  Model rz(mc, 2, 4);
  rz.init(2);
  rz.forward(pt, nullptr, nullptr, 1, 1);
  const float r0 = rz.block_rms(0);
  CHECK(rz.block_rms(3) == Approx(r0).epsilon(1e-6));
}

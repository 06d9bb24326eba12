// Whole-model gradient checks for every block setting: residual x norm x placement, for the MLP
// and the transformer, against central finite differences of the model's own loss.
#include <catch2/catch.hpp>

#include "model.h"
#include "testing.h"

using namespace resnorm;
using namespace resnorm_test;

namespace {

// check_grad() (testing.h) on every parameter tensor of the model, the loss as f. Returns the worst
// tensor's result; `where` names it. A tensor whose gradient norm is below `floor_frac` of the model's
// largest tensor gradient is measured against that floor instead of its own norm (and its elements
// against the same fraction of the model's largest gradient element): the loss is a float
// computation with rounding noise ~1e-7, so a derivative's noise is ~1e-7 / t ~ 1e-5 absolute, and a
// tensor whose whole gradient is ~1e-4 (the embeddings of the plain, norm-free gpt) cannot be held to
// 0.5% of itself. Such tensors are counted (`floored`) and printed.
struct ModelCheck {
  resnorm_test::GradCheck worst;
  std::string where;
  double least_planted = 1e30;  // the smallest planted-error score over all tensors (must exceed the tolerance)
  int floored = 0, tensors = 0;
};

ModelCheck model_grad_check(Model& m, const float* points, const int* tokens, const int* targets, int B, int T,
                            float t, size_t per_slice, double floor_frac) {
  m.zero_grad();
  m.forward(points, tokens, targets, B, T);
  m.backward();
  const std::vector<float> g(m.grads(), m.grads() + m.num_params());
  double biggest = 0.0, biggest_elem = 0.0;
  for (const Slice& s : m.slices()) {
    double sq = 0.0;
    for (size_t i = 0; i < s.size; ++i) {
      sq += static_cast<double>(g[s.offset + i]) * g[s.offset + i];
      biggest_elem = std::max(biggest_elem, static_cast<double>(std::fabs(g[s.offset + i])));
    }
    biggest = std::max(biggest, std::sqrt(sq));
  }
  ModelCheck out;
  auto loss = [&] { return m.forward(points, tokens, targets, B, T); };
  for (const Slice& s : m.slices()) {
    const double floor = floor_frac * biggest;
    const GradCheck r = check_grad(m.params() + s.offset, s.size, g.data() + s.offset, loss, t, per_slice, floor,
                                   floor_frac * biggest_elem);
    if (r.worst() >= out.worst.worst()) { out.worst = r; out.where = s.name; }
    ++out.tensors;
    if (r.gnorm > floor)
      out.least_planted = std::min(out.least_planted, std::min(r.scaled, r.spiked));
    else
      ++out.floored;
  }
  return out;
}

void report(const std::string& setting, const ModelCheck& c) {
  std::printf("gradcheck %-32s worst %.1e (%s at %s), least planted-2%% score %.1e, %d of %d tensors under the floor\n",
              setting.c_str(), c.worst.worst(),
              c.worst.worst() == c.worst.elem ? "elem" : c.worst.worst() == c.worst.dir_grad ? "dir_grad" : "dir_rand",
              c.where.c_str(), c.least_planted, c.floored, c.tensors);
  INFO(setting << ": worst " << c.worst.worst() << " at " << c.where << " (dir_grad " << c.worst.dir_grad << ", dir_rand "
               << c.worst.dir_rand << ", elem " << c.worst.elem << "); least planted-2% score " << c.least_planted);
  CHECK(c.worst.worst() < kGradTol);
  CHECK(c.least_planted > kGradTol);
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
        const ModelCheck c = model_grad_check(m, pts.data(), nullptr, y.data(), B, 1, 5e-3f, 4, 1e-3);
        report(std::string(to_string(res)) + " x " + to_string(norm) + " x " + to_string(pl), c);
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
        // The plain norm-free transformer (residual none, norm none) is the vanishing-gradient case:
        // its first block's tensors get a few percent of the last's gradient, ~1e-5 per element, the
        // size of a float loss's rounding noise over t. They are held to a floor of 10% of the model's
        // largest gradient; the op checks and the PyTorch parity test cover them at full precision.
        const bool plain = res == Residual::None && norm == NormKind::None;
        Model m(mc, V, B * T);
        m.init(5);
        perturb(m.params(), m.slices());
        const ModelCheck c = model_grad_check(m, nullptr, tok.data(), tgt.data(), B, T, 1e-2f, 3,
                                                plain ? 1e-1 : 3e-2);
        report(std::string(to_string(res)) + " x " + to_string(norm) + " x " + to_string(pl), c);
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

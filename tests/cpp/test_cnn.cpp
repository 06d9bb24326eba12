// Issue 11 behaviours that are not gradients or parity: the divergence guard with eps = 0 naming the
// block and the cause, BatchNorm's running statistics rolled back on a diverged step, BatchNorm
// checkpoints (PyTorch names, int64 count) round-tripped and refused when damaged, the digits data.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "checkpoint.h"
#include "error.h"
#include "testing.h"
#include "trainer.h"

using namespace resnorm;

TEST_CASE("eps = 0: a zero variance is reported as a divergence naming the norm, its block and the cause", "[model]") {
  // The article's LayerNorm divides by the standard deviation with no eps. A dead stem (all weights 0,
  // one constant bias) makes every feature of block 0's input equal: variance 0, 1/std infinite.
  Config c = config_from_string(R"({"model": {"kind": "mlp", "depth": 3, "width": 8, "norm": "layernorm",
                                    "placement": "pre", "eps": 0}, "optim": {"batch": 16}})");
  Trainer tr(c);
  Model& m = tr.model();
  std::fill(m.params() + m.find("stem.weight")->offset, m.params() + m.find("stem.weight")->offset + 16, 0.0f);
  std::fill(m.params() + m.find("stem.bias")->offset, m.params() + m.find("stem.bias")->offset + 8, 0.5f);
  const std::vector<float> before(m.params(), m.params() + m.num_params());
  const StepStats& st = tr.step();
  INFO(st.divergence);
  CHECK(st.diverged);
  CHECK(st.divergence.find("division by zero variance in blocks.0.mlp.norm_in (block 0)") != std::string::npos);
  CHECK(st.divergence.find("model.eps = 0") != std::string::npos);
  CHECK(std::memcmp(before.data(), m.params(), before.size() * sizeof(float)) == 0);  // the update was skipped
  // The same run with eps = 1e-5 is finite (a constant row normalises to 0).
  c.model.eps = 1e-5;
  Trainer ok(c);
  std::fill(ok.model().params() + ok.model().find("stem.weight")->offset,
            ok.model().params() + ok.model().find("stem.weight")->offset + 16, 0.0f);
  CHECK_FALSE(ok.step().diverged);
}

TEST_CASE("experiment cnn-eps: raw pixels make constant groups, eps = 0 stops at step 1, eps = 1e-5 learns", "[model]") {
  // The redesigned experiment (issue 20): LayerNorm over the channels at each position, raw pixels.
  // The stem conv has no bias, so at a blank background position every channel is exactly 0.
  const std::string& digits = resnorm_test::digits_asset();
  REQUIRE(!digits.empty());
  auto cfg = [](const char* eps, const char* pixels) {
    return config_from_string(std::string(R"({"model": {"kind": "cnn", "depth": 1, "width": 16, "norm": "layernorm",
      "placement": "pre", "eps": )") + eps + R"(}, "data": {"name": "digits", "pixels": ")" + pixels +
      R"("}, "optim": {"lr": 0.003, "beta2": 0.999, "warmup": 0, "clip": 0, "batch": 64, "steps": 500}})");
  };
  Trainer bad(cfg("0", "raw"), digits);
  const StepStats& s = bad.step();
  INFO(s.divergence);
  CHECK(s.diverged);
  CHECK(s.divergence.find("division by zero variance in blocks.0.norm_1 (block 0)") != std::string::npos);
  // corrected: eps = 1e-5 on the same pixels; and eps = 0 on standardised pixels (no group is constant)
  for (const char* pixels : {"raw", "standardized"}) {
    Trainer ok(cfg(pixels[0] == 'r' ? "1e-5" : "0", pixels), digits);
    float first = 0, last = 0;
    for (int i = 0; i < 60; ++i) {
      const StepStats& st = ok.step();
      INFO(pixels << " step " << i << ": " << st.divergence);
      REQUIRE_FALSE(st.diverged);
      if (i == 0) first = st.loss;
      last = st.loss;
    }
    INFO(pixels << ": loss " << first << " -> " << last);
    CHECK(last < 0.6f * first);  // it learns: from ln(10) = 2.30 to well below
  }
}

TEST_CASE("BatchNorm: a diverged step rolls the running statistics back with the parameters", "[model]") {
  const std::string& digits = resnorm_test::digits_asset();
  REQUIRE(!digits.empty());
  Config c = preset("cnn-digits");
  c.optim.batch = 8;
  Trainer tr(c, digits);
  tr.step();
  tr.step();
  const Model& m = tr.model();
  const size_t nb = m.plan().num_bufs;
  REQUIRE(nb > 0);
  const std::vector<float> bufs(m.buffers(), m.buffers() + nb);
  // A NaN weight makes the forward NaN, and the batch statistics it feeds into the running ones NaN.
  Model& mm = tr.model();
  mm.params()[mm.find("blocks.1.conv1.weight")->offset] = std::numeric_limits<float>::quiet_NaN();
  const StepStats& st = tr.step();
  CHECK(st.diverged);
  bool same = true;
  for (size_t i = 0; i < nb; ++i) same = same && bufs[i] == m.buffers()[i];
  CHECK(same);
  // Negative control: without the rollback the NaN would be there.
  mm.set_training(true);
  mm.forward(tr.batch_points().data(), nullptr, tr.batch_targets().data(), 8, 1);
  mm.set_training(false);
  bool nan = false;
  for (size_t i = 0; i < nb; ++i) nan = nan || std::isnan(m.buffers()[i]);
  CHECK(nan);
}

TEST_CASE("BatchNorm checkpoints: PyTorch names, int64 count, round trip, damage refused", "[checkpoint]") {
  const std::string& digits = resnorm_test::digits_asset();
  REQUIRE(!digits.empty());
  Config c = preset("cnn-digits");
  c.optim.batch = 8;
  Trainer a(c, digits);
  for (int i = 0; i < 3; ++i) a.step();
  const std::vector<uint8_t> bytes = a.save();
  const SafetensorsView v = parse_safetensors(bytes.data(), bytes.size());
  const TensorEntry* nbt = v.find("blocks.0.norm_1.num_batches_tracked");
  REQUIRE(nbt);
  CHECK(nbt->i64);
  CHECK(nbt->shape.empty());
  int64_t count = 0;
  std::memcpy(&count, v.data + nbt->begin, 8);
  CHECK(count == 3);
  REQUIRE(v.find("stem.norm_out.running_var"));
  Trainer b(c, digits);
  b.load(bytes.data(), bytes.size());
  const size_t nb = a.model().plan().num_bufs;
  CHECK(std::memcmp(a.model().buffers(), b.model().buffers(), nb * sizeof(float)) == 0);
  CHECK(std::memcmp(a.model().params(), b.model().params(), a.model().num_params() * sizeof(float)) == 0);
  // Evaluation (running statistics) gives the same numbers after loading.
  CHECK(a.evaluate().val_loss == b.evaluate().val_loss);
  // A negative running variance is refused and changes nothing.
  std::vector<uint8_t> bad = bytes;
  const SafetensorsView bv = parse_safetensors(bad.data(), bad.size());
  const size_t at = static_cast<size_t>(bv.data - bad.data()) + bv.find("blocks.1.norm_2.running_var")->begin;
  const float neg = -1.0f;
  std::memcpy(bad.data() + at, &neg, 4);
  Trainer fresh(c, digits);
  const std::vector<float> keep(fresh.model().buffers(), fresh.model().buffers() + nb);
  try {
    fresh.load(bad.data(), bad.size());
    FAIL("a negative running variance was accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("blocks.1.norm_2.running_var") != std::string::npos);
  }
  CHECK(std::memcmp(keep.data(), fresh.model().buffers(), nb * sizeof(float)) == 0);
}

TEST_CASE("digits: 10,000 real digits, 14x14 or 28x28, a held-out split fixed by the seed", "[data]") {
  const std::string& digits = resnorm_test::digits_asset();
  REQUIRE(!digits.empty());
  DataConfig d;
  d.name = "digits";
  d.test_fraction = 0.2;
  const Dataset2D a = make_digits(digits, d, 7), b = make_digits(digits, d, 7), other = make_digits(digits, d, 8);
  CHECK(a.n_train() + a.n_test() == 10000);
  CHECK(a.n_test() == 2000);
  CHECK(a.dim == 14 * 14);
  CHECK(a.y_test == b.y_test);
  CHECK(a.x_test == b.x_test);
  CHECK(a.y_test != other.y_test);
  int per_class[10] = {};
  for (int y : a.y_train) ++per_class[y];
  for (int k = 0; k < 10; ++k) CHECK(per_class[k] > 500);  // about 800 each
  // 28x28 keeps the pixels; 14x14 is their 2x2 average (both standardised the same way).
  d.resolution = 28;
  const Dataset2D full = make_digits(digits, d, 7);
  REQUIRE(full.dim == 784);
  const float* hi = full.x_test.data();
  const float* lo = a.x_test.data();
  for (int r = 0; r < 14; r += 5)
    for (int col = 0; col < 14; col += 3) {
      const float avg = 0.25f * (hi[(2 * r) * 28 + 2 * col] + hi[(2 * r) * 28 + 2 * col + 1] + hi[(2 * r + 1) * 28 + 2 * col] +
                                 hi[(2 * r + 1) * 28 + 2 * col + 1]);
      CHECK(lo[r * 14 + col] == Approx(avg).margin(1e-5));
    }
  // data.pixels = "raw": the same pixels in 0..1 before standardising, so a blank background is exactly 0.
  d.resolution = 14;
  d.pixels = Pixels::Raw;
  const Dataset2D raw = make_digits(digits, d, 7);
  REQUIRE(raw.x_test.size() == a.x_test.size());
  CHECK(raw.y_test == a.y_test);
  size_t zeros = 0;
  for (size_t i = 0; i < raw.x_test.size(); ++i) {
    CHECK(raw.x_test[i] >= 0.0f);
    CHECK(raw.x_test[i] <= 1.0f);
    zeros += raw.x_test[i] == 0.0f;
    if (i % 97 == 0) CHECK(a.x_test[i] == Approx((raw.x_test[i] - 0.1307f) / 0.3081f).margin(1e-5));
  }
  CHECK(zeros > raw.x_test.size() / 2);  // most of a digit is background
  for (float v : a.x_test) CHECK(v != 0.0f);  // standardised: the background is -0.42, no pixel is 0
  d.pixels = Pixels::Standardized;
  // A damaged asset is refused with a message that says how to rebuild it.
  std::string cut = digits.substr(0, 1000);
  CHECK_THROWS_WITH(make_digits(cut, d, 1), Catch::Contains("node scripts/make-digits.mjs"));
  CHECK_THROWS_WITH(make_digits("", d, 1), Catch::Contains("digits asset"));
}

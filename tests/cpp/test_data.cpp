// Datasets: seeded, deterministic, split as documented, labels and ranges sane; text batches.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <set>

#include "checkpoint.h"
#include "config.h"
#include "data.h"
#include "json.h"
#include "error.h"
#include "trainer.h"

using namespace resnorm;
using Catch::Matchers::Contains;

TEST_CASE("2-D datasets are deterministic, split, labelled and bounded", "[data]") {
  for (const char* name : {"spiral", "circle", "xor", "gauss", "moons", "checkerboard"}) {
    INFO(name);
    DataConfig dc;
    dc.name = name;
    dc.samples = 500;
    dc.test_fraction = 0.2;
    const Dataset2D a = make_dataset(dc, 42), b = make_dataset(dc, 42), c = make_dataset(dc, 43);
    CHECK(a.x_train == b.x_train);
    CHECK(a.y_test == b.y_test);
    CHECK(a.x_train != c.x_train);
    CHECK(a.n_test() == 100);
    CHECK(a.n_train() == 400);
    int ones = 0;
    for (int y : a.y_train) { CHECK((y == 0 || y == 1)); ones += y; }
    CHECK(ones > 120);
    CHECK(ones < 280);
    for (float v : a.x_train) CHECK(std::fabs(v) <= kDataExtent);
  }
}

TEST_CASE("xor labels follow the quadrant when there is no noise", "[data]") {
  DataConfig dc;
  dc.name = "xor";
  dc.noise = 0.0;
  const Dataset2D d = make_dataset(dc, 1);
  for (int i = 0; i < d.n_train(); ++i) {
    const float x = d.x_train[2 * i], y = d.x_train[2 * i + 1];
    CHECK(d.y_train[i] == (x * y >= 0 ? 0 : 1));
  }
}

TEST_CASE("char data: sorted vocabulary, 90/10 split, shifted targets", "[data]") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "hello world\n"[i % 12];
  const CharData cd(text);
  CHECK(cd.vocab() == "\n dehlorw");
  CHECK(cd.train_size() == 900);
  CHECK(cd.val_size() == 100);
  Rng r(1);
  std::vector<int> x(3 * 8), y(3 * 8);
  cd.batch(r, false, 3, 8, x.data(), y.data());
  for (int b = 0; b < 3; ++b)
    for (int t = 0; t + 1 < 8; ++t) CHECK(y[b * 8 + t] == x[b * 8 + t + 1]);
  CHECK_THROWS_WITH(cd.batch(r, true, 1, 200, x.data(), y.data()), Catch::Matchers::Contains("shorter than model.context"));
  CHECK_THROWS_AS(CharData("hello", "hel"), Error);  // a character outside a given vocabulary
}

TEST_CASE("the project's RNG is stable across platforms", "[data]") {
  // Known PCG32 outputs for our seeding: any change to the generator changes every dataset and
  // initialisation, and must be deliberate.
  Rng r(1337, 0);
  CHECK(r.next_u32() == 1108123476u);
  CHECK(r.next_u32() == 4223734067u);
  CHECK(r.next_u32() == 2270338902u);
  Rng q(42, 7);
  CHECK(q.normal() == Approx(1.40096426).epsilon(1e-7));
  CHECK(q.uniform() == 0.0672658086f);
  Rng s(0, 0);
  std::set<uint32_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(s.next_u32());
  CHECK(seen.size() == 1000);
  double mean = 0, var = 0;
  Rng n(5);
  for (int i = 0; i < 20000; ++i) { const double v = n.normal(); mean += v; var += v * v; }
  CHECK(mean / 20000 == Approx(0).margin(0.03));
  CHECK(var / 20000 == Approx(1).epsilon(0.03));
  for (int i = 0; i < 1000; ++i) CHECK(n.below(7) < 7u);
}

// ---- Unicode text (issue 10, "your own data"): code-point vocabulary, UTF-8 errors, the cap ----

namespace {
std::string utf8_of(char32_t c) {
  std::string s;
  utf8_append(s, c);
  return s;
}
}  // namespace

TEST_CASE("utf-8 encoding and decoding agree with the standard's examples", "[data]") {
  // RFC 3629 section 7's examples, byte for byte.
  CHECK(utf8_of(U'A') == "A");
  CHECK(utf8_of(0x00E9) == "\xC3\xA9");
  CHECK(utf8_of(0x65E5) == "\xE6\x97\xA5");  // 日
  CHECK(utf8_of(0x233B4) == "\xF0\xA3\x8E\xB4");
  CHECK(utf8_of(0x10FFFF) == "\xF4\x8F\xBF\xBF");
  CHECK(utf8_decode("\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", "t") == std::u32string{0xD55C, 0xAD6D, 0xC5B4});
  // Every boundary code point survives a round trip.
  for (char32_t c : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u, 0x10FFFFu})
    CHECK(utf8_decode(utf8_of(c), "t") == std::u32string(1, c));
}

TEST_CASE("invalid utf-8 is refused with the byte offset of the fault", "[data]") {
  const struct {
    std::string text;
    size_t at;
    const char* why;
  } cases[] = {
      {"abc\x80", 3, "continuation byte"},            // a lone continuation byte
      {"ab\xC3", 2, "ends inside a character"},       // cut at the end
      {"\xE6\x97x", 2, "cut short"},                  // a character cut short by an ASCII byte
      {"ok\xC0\x80", 2, "never occurs"},              // overlong NUL (C0 never occurs)
      {"\xE0\x80\xAF", 1, "overlong"},                // overlong '/' in three bytes
      {"x\xED\xA0\x80", 2, "surrogate"},              // U+D800
      {"\xF4\x90\x80\x80", 1, "above U+10FFFF"},      // U+110000
      {"\xF5\x80\x80\x80", 0, "never occurs"},
      {"\xFF", 0, "never occurs"},
  };
  for (const auto& c : cases) {
    INFO(c.at << " " << c.why);
    CHECK_THROWS_WITH(CharData(c.text), Contains("data: the text is not valid UTF-8 at byte " + std::to_string(c.at) + " (") &&
                                          Contains(c.why));
  }
}

TEST_CASE("char data: the vocabulary is the text's distinct code points, sorted; the split counts characters", "[data]") {
  // 床前明月光 (5 characters, 15 bytes) and a newline, 100 times: 600 characters, 1,600 bytes.
  std::string text;
  for (int i = 0; i < 100; ++i) text += "床前明月光\n";
  const CharData cd(text);
  REQUIRE(cd.vocab_size() == 6);
  CHECK(cd.vocab() == "\n光前床明月");  // U+000A < U+5149 < U+524D < U+5E8A < U+660E < U+6708
  CHECK(cd.train_size() == 540);     // 90% of 600 characters, not of 1,600 bytes
  CHECK(cd.val_size() == 60);
  CHECK(cd.encode(0x5E8A) == 3);
  CHECK(cd.decode(3) == "床");
  CHECK(cd.encode(U'x') == -1);
  CHECK(cd.encode_text("明月\n", "prompt") == std::vector<int>{4, 5, 0});
  CHECK_THROWS_WITH(cd.encode_text("明x", "prompt"),
             Contains("prompt: character \"x\" (U+0078) at position 1 is not in the vocabulary"));
  CHECK_THROWS_WITH(cd.encode_text("明\xE6", "prompt"), Contains("prompt is not valid UTF-8 at byte 3"));
  // Batches: ids in range, targets shifted by one, and the sequence the text has.
  Rng r(3);
  std::vector<int> x(4 * 12), y(4 * 12);
  cd.batch(r, false, 4, 12, x.data(), y.data());
  const std::vector<int> cycle = {3, 2, 4, 5, 1, 0};  // 床前明月光\n as ids
  for (int b = 0; b < 4; ++b)
    for (int t = 0; t < 12; ++t) {
      const auto at = std::find(cycle.begin(), cycle.end(), x[b * 12 + t]) - cycle.begin();
      CHECK(y[b * 12 + t] == cycle[static_cast<size_t>((at + 1) % 6)]);
    }
  // Mixed scripts: ASCII, Latin-1, CJK and a supplementary-plane character.
  const CharData mixed("aé日𠀀a日");
  CHECK(mixed.vocab() == "aé日𠀀");
  CHECK(mixed.vocab_size() == 4);
  CHECK(mixed.train_size() + mixed.val_size() == 6);
}

TEST_CASE("the vocabulary cap: 4096 distinct characters train, 4097 are refused naming both numbers", "[data]") {
  REQUIRE(kMaxVocab == 4096);
  std::string text;
  for (char32_t c = 0x4E00; c < 0x4E00 + 4096; ++c) utf8_append(text, c);  // 4096 CJK ideographs
  CHECK(CharData(text).vocab_size() == 4096);
  CHECK(utf8_decode(text_vocab(text), "v").size() == 4096);
  utf8_append(text, U'!');
  CHECK_THROWS_WITH(CharData(text), Contains("the text has 4097 distinct characters, over the cap of 4096"));
  CHECK_THROWS_WITH(text_vocab(text), Contains("4097 distinct characters, over the cap of 4096"));
  CHECK_THROWS_WITH(CharData("aaaa"), Contains("at least two distinct characters"));
}

TEST_CASE("a given vocabulary must be valid, sorted and distinct, and hold every character of the text", "[data]") {
  CHECK(CharData("", "ab").vocab_size() == 2);  // a checkpoint's vocabulary without text (inference)
  CHECK_THROWS_WITH(CharData("", "ba"), Contains("not sorted at U+0061"));
  CHECK_THROWS_WITH(CharData("", "abb"), Contains("repeats U+0062"));
  CHECK_THROWS_WITH(CharData("", "a"), Contains("has 1 characters (allowed: 2..4096)"));
  CHECK_THROWS_WITH(CharData("", "a\xFF"), Contains("vocabulary is not valid UTF-8 at byte 1"));
  CHECK_THROWS_WITH(CharData("明月光", "明月"), Contains("U+5149 at character 2, outside"));
}

TEST_CASE("the memory estimate covers a large vocabulary exactly", "[data]") {
  // estimate_bytes is what the Trainer allocates (test_model.cpp checks every block setting at a
  // small vocabulary); here the embedding, head and logits at 4,000 characters.
  std::string text;
  for (int i = 0; i < 3; ++i)
    for (char32_t c = 0x4E00; c < 0x4E00 + 4000; ++c) utf8_append(text, c);
  Config c = preset("gpt-tiny");
  c.model.depth = 1;
  c.model.width = 32;
  c.optim.batch = 2;
  const Trainer tr(c, text);
  CHECK(tr.model().vocab() == 4000);
  CHECK(static_cast<double>(tr.bytes()) == estimate_bytes(c, 4000));
  CHECK(estimate_bytes(c, 4000) > estimate_bytes(c, 65) + 4.0 * (2 * 32 + 2 * 64 * 3) * (4000 - 65));
}

// ---- Your own points (issue 10): CSV x,y,label, errors by line, split like the built-in sets ----

TEST_CASE("points from CSV: header, blank lines and CRLF allowed; split and shuffled as the built-in datasets", "[data]") {
  std::string csv = "x,y,label\r\n";
  for (int i = 0; i < 100; ++i) csv += std::to_string(-1 + i * 0.02) + "," + std::to_string(0.5 - i * 0.01) + "," + (i % 3 ? "1" : "0") + "\r\n";
  csv += "\n  \n";
  const Dataset2D d = points_from_csv(csv, 0.2, 42);
  CHECK(d.n_test() == 20);
  CHECK(d.n_train() == 80);
  // every point is one of the file's, with its label, and each appears once
  std::multiset<std::pair<int, int>> seen;
  auto add = [&](const std::vector<float>& x, const std::vector<int>& y) {
    for (size_t k = 0; k < y.size(); ++k) {
      const int i = static_cast<int>(std::lround((x[2 * k] + 1) / 0.02));
      CHECK(x[2 * k + 1] == Approx(0.5 - i * 0.01).margin(1e-6));
      CHECK(y[k] == (i % 3 ? 1 : 0));
      seen.insert({i, y[k]});
    }
  };
  add(d.x_train, d.y_train);
  add(d.x_test, d.y_test);
  CHECK(seen.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(seen.count({i, i % 3 ? 1 : 0}) == 1);
  // the same seed gives the same split; another seed another order
  CHECK(points_from_csv(csv, 0.2, 42).x_train == d.x_train);
  CHECK(points_from_csv(csv, 0.2, 43).x_train != d.x_train);
  // through the config and the Trainer, as the CLI and the playground use it
  Config c = config_from_string(R"({"model": {"kind": "mlp", "depth": 2, "width": 8}, "data": {"name": "points", "test_fraction": 0.2}, "seed": 42})");
  Trainer tr(c, csv);
  CHECK(tr.evaluate().accuracy >= 0);
  CHECK_THROWS_WITH(Trainer(c, ""), Contains("data.name = \"points\" needs your points"));
}

TEST_CASE("bad points are refused naming the line", "[data]") {
  const std::string ok = "0,0,0\n1,1,1\n-1,1,0\n";
  const struct {
    std::string csv;
    const char* want;
  } cases[] = {
      {ok + "0.5,0.5\n", "line 4: has 2 fields"},
      {ok + "0.5,0.5,1,2\n", "line 4: has 4 fields"},
      {"x,y,label\n" + ok + "a,0,1\n", "line 5: x = \"a\" is not a number"},
      {ok + "\n0, 1e999, 1\n", "line 5: y = \"1e999\" is not a number"},
      {ok + "0,0,2\n", "line 4: label = \"2\" is not 0 or 1"},
      {ok + "0,0,0.5\n", "line 4: label = \"0.5\" is not 0 or 1"},
      {ok + "1.6,0,1\n", "line 4: the point lies outside the square"},
      {ok, "3 points; at least 4 are needed"},
      {"y,x,label\n" + ok + "0,0,1\n", "line 1: x = \"y\" is not a number"},  // only the exact header is skipped
  };
  for (const auto& c : cases) {
    INFO(c.csv);
    CHECK_THROWS_WITH(points_from_csv(c.csv, 0.2, 1), Contains(std::string("points: ") + c.want));
  }
  std::string many;
  for (int i = 0; i <= kMaxPoints; ++i) many += "0.1,0.2," + std::to_string(i % 2) + "\n";
  CHECK_THROWS_WITH(points_from_csv(many, 0.2, 1), Contains("line 10001: more than 10000 points"));
  many.resize(many.size() - 10);  // the last row ("0.1,0.2,0\n") removed: exactly the cap
  CHECK(points_from_csv(many, 0.2, 1).n_train() + points_from_csv(many, 0.2, 1).n_test() == kMaxPoints);
}

TEST_CASE("CSV numbers: the fields tests/cpp/data/csv_numbers.json lists read as strtod reads them (the page checks the same file)", "[data]") {
  const auto bytes = read_file(std::string(RESNORM_SOURCE_DIR) + "/tests/cpp/data/csv_numbers.json");
  const Json doc = parse_json(std::string(bytes.begin(), bytes.end()));
  int accepted = 0, refused = 0;
  for (const Json& c : doc.find("cases")->items()) {
    const std::string field = c.items()[0].as_string();
    INFO("field \"" << field << "\"");
    // the field is x of the only point with y = 1 (three fixed points make the minimum of four)
    const std::string csv = field + ",1,0\n0,0,1\n0.1,-1,0\n0,0.1,1\n";
    if (c.items()[1].is_null()) {
      CHECK_THROWS_WITH(points_from_csv(csv, 0.25, 1), Contains("line 1: x = \"" + printable(field) + "\" is not a number"));
      ++refused;
      continue;
    }
    const Dataset2D d = points_from_csv(csv, 0.25, 1);
    std::vector<float> xs = d.x_train;
    xs.insert(xs.end(), d.x_test.begin(), d.x_test.end());
    int found = 0;
    for (size_t k = 0; 2 * k < xs.size(); ++k)
      if (xs[2 * k + 1] == 1.0f) { CHECK(xs[2 * k] == static_cast<float>(c.items()[1].as_number())); ++found; }
    CHECK(found == 1);
    ++accepted;
  }
  CHECK(accepted >= 20);  // hexadecimal floats among them
  CHECK(refused >= 20);
}

TEST_CASE("data.seed draws the data alone: the weights stay those of the run's seed", "[data][config]") {
  const std::string base = R"({"model": {"kind": "mlp", "depth": 2, "width": 8}, "data": {"name": "spiral")";
  const Config a = config_from_string(base + R"(}, "seed": 7})");
  const Config same = config_from_string(base + R"(, "seed": 7}, "seed": 7})");  // data.seed = seed: the same data
  const Config redrawn = config_from_string(base + R"(, "seed": 99}, "seed": 7})");
  CHECK(a.data.seed == 0);
  CHECK(a.data_seed() == 7);
  Trainer ta(a), ts(same), tr(redrawn);
  CHECK(ts.dataset().x_train == ta.dataset().x_train);
  CHECK(tr.dataset().x_train != ta.dataset().x_train);  // new points...
  const auto weights = [](const Trainer& t) { return std::vector<float>(t.model().params(), t.model().params() + t.model().num_params()); };
  CHECK(weights(tr) == weights(ta));                       // ...the same initial weights
  // with data.seed 99 the points are those of a run seeded 99
  Trainer t99(config_from_string(base + R"(}, "seed": 99})"));
  CHECK(tr.dataset().x_train == t99.dataset().x_train);
  CHECK(weights(t99) != weights(ta));
  // absent or 0: printed as before (old configs and links unchanged); a set one round-trips
  CHECK(config_to_json(a).find("data")->find("seed") == nullptr);
  CHECK(config_to_json(redrawn).find("data")->find("seed")->as_number() == 99);
  CHECK_THROWS_WITH(config_from_string(base + R"(, "seed": 1.5}})"), Contains("data.seed = 1.5 is not allowed"));
  CHECK_THROWS_WITH(config_from_string(base + R"(, "seed": -1}})"), Contains("data.seed"));
  CHECK_THROWS_WITH(config_from_string(base + R"(, "seed": 4294967296}})"), Contains("data.seed"));
}

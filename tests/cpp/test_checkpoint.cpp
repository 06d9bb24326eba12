// Checkpoints: round trip, and refusal of truncated, corrupted and mismatched files.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "checkpoint.h"
#include "error.h"
#include "trainer.h"

using namespace resnorm;
using Catch::Matchers::Contains;

namespace {
std::string text_corpus() {
  std::string t;
  for (int i = 0; i < 3000; ++i) t += "to be or not to be, that is the question\n"[i % 41];
  return t;
}
Config small_gpt() {
  Config c = preset("gpt-tiny");
  c.model.depth = 2;
  c.model.width = 16;
  c.model.heads = 2;
  c.model.context = 8;
  c.optim.batch = 2;
  return c;
}
std::string load_error(Trainer& tr, const std::vector<uint8_t>& bytes) {
  try {
    tr.load(bytes.data(), bytes.size());
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}
}  // namespace

TEST_CASE("checkpoint round trip restores parameters, step and outputs", "[checkpoint]") {
  for (bool gpt : {false, true}) {
    INFO((gpt ? "gpt" : "mlp"));
    Config c = gpt ? small_gpt() : preset("mlp-spiral");
    Trainer a(c, text_corpus());
    for (int i = 0; i < 5; ++i) a.step();
    const auto bytes = a.save();
    Trainer b(c, text_corpus());
    for (int i = 0; i < 2; ++i) b.step();  // other parameters: loading must overwrite all of them
    b.load(bytes.data(), bytes.size());
    CHECK(b.steps_done() == 5);
    CHECK(std::memcmp(a.model().params(), b.model().params(), a.model().num_params() * 4) == 0);
    CHECK(a.evaluate().val_loss == b.evaluate().val_loss);
    const CheckpointInfo info = read_checkpoint_info(bytes.data(), bytes.size());
    CHECK(config_to_json(info.config).dump() == config_to_json(c).dump());
    if (gpt) CHECK(info.vocab == a.vocab());
  }
}

TEST_CASE("the header follows the safetensors layout", "[checkpoint]") {
  Trainer a(preset("mlp-spiral"));
  const auto bytes = a.save();
  uint64_t hn = 0;
  for (int i = 0; i < 8; ++i) hn |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  CHECK(hn % 8 == 0);
  const Json h = parse_json(std::string(reinterpret_cast<const char*>(bytes.data()) + 8, hn));
  const Json* stem = h.find("stem.weight");
  REQUIRE(stem);
  CHECK(stem->find("dtype")->as_string() == "F32");
  CHECK(stem->find("shape")->dump() == "[32,2]");
  CHECK(stem->find("data_offsets")->dump() == "[0,256]");
  CHECK(h.find("__metadata__")->find("format")->as_string() == "resnorm-safetensors-1");
}

TEST_CASE("truncated, corrupted and mismatched checkpoints are refused and change nothing", "[checkpoint]") {
  Trainer a(small_gpt(), text_corpus());
  a.step();
  const auto good = a.save();
  Trainer b(small_gpt(), text_corpus());
  const std::vector<float> before(b.model().params(), b.model().params() + b.model().num_params());
  auto unchanged = [&] {
    return std::memcmp(before.data(), b.model().params(), before.size() * 4) == 0 && b.steps_done() == 0;
  };

  // Truncated at many lengths, including inside the header and inside the data.
  for (size_t len : {size_t(0), size_t(4), size_t(8), size_t(20), good.size() / 2, good.size() - 1}) {
    INFO("length " << len);
    const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(len));
    CHECK_THAT(load_error(b, cut), Contains("checkpoint:"));
    CHECK(unchanged());
  }
  // Header length beyond the file.
  auto bad = good;
  bad[7] = 0x7f;
  CHECK_THAT(load_error(b, bad), Contains("header length"));
  // Garbage in the JSON header.
  bad = good;
  bad[9] = '#';
  CHECK_THAT(load_error(b, bad), Contains("not valid JSON"));
  // A NaN inside the data.
  bad = good;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(bad.data() + bad.size() - 4, &nan, 4);
  CHECK_THAT(load_error(b, bad), Contains("non-finite value"));
  CHECK(unchanged());
  // Trailing bytes.
  bad = good;
  bad.push_back(0);
  CHECK_THAT(load_error(b, bad), Contains("trailing bytes"));
  // Another config: different depth / different residual kind.
  Config other = small_gpt();
  other.model.depth = 3;
  Trainer c(other, text_corpus());
  const auto deeper = c.save();
  CHECK_THAT(load_error(b, deeper), Contains("model.depth = 3, this run has 2"));
  other = small_gpt();
  other.model.residual = Residual::DeepNorm;
  Trainer d(other, text_corpus());
  const auto dn = d.save();
  CHECK_THAT(load_error(b, dn), Contains("model.residual"));
  // An mlp checkpoint into a gpt run.
  Trainer m(preset("mlp-spiral"));
  CHECK_THAT(load_error(b, m.save()), Contains("model.kind"));
  CHECK(unchanged());
}

TEST_CASE("tensor-level checks: wrong dtype, shape, name", "[checkpoint]") {
  Trainer a(preset("mlp-spiral"));
  const auto good = a.save();
  auto patch = [&](const std::string& from, const std::string& to) {
    std::string s(good.begin(), good.end());
    const size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    REQUIRE(from.size() == to.size());
    s.replace(at, from.size(), to);
    return std::vector<uint8_t>(s.begin(), s.end());
  };
  Trainer b(preset("mlp-spiral"));
  CHECK_THAT(load_error(b, patch("\"F32\"", "\"F16\"")), Contains("dtype F16"));
  CHECK_THAT(load_error(b, patch("\"shape\":[32,2]", "\"shape\":[16,4]")), Contains("has shape [16,4], the model expects [32,2]"));
  CHECK_THAT(load_error(b, patch("\"stem.weight\"", "\"stem.weighs\"")), Contains("\"stem.weight\" is missing"));
}

TEST_CASE("atomic write never leaves a half-written file in place", "[checkpoint]") {
  const std::string path = "resnorm_test_ckpt.safetensors";
  Trainer a(preset("mlp-spiral"));
  const auto bytes = a.save();
  write_file_atomic(path, bytes);
  CHECK(read_file(path) == bytes);
  CHECK_THROWS_AS(write_file_atomic("/nonexistent-dir/x.safetensors", bytes), Error);
  CHECK(read_file(path) == bytes);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(read_file("/nonexistent-file"), Contains("cannot open"));
}

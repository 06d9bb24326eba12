// Config parsing and validation: defaults, round trip, presets, and every kind of bad input gets
// an error naming the field, the value and what is allowed.
#include <catch2/catch.hpp>

#include "config.h"
#include "error.h"
#include "json.h"
#include "rng.h"

#include <cmath>
#include <cstdlib>
#include <vector>

using namespace resnorm;
using Catch::Matchers::Contains;

namespace {
std::string error_of(const std::string& json) {
  try {
    config_from_string(json);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}
}  // namespace

TEST_CASE("missing keys take the documented defaults", "[config]") {
  const Config c = config_from_string("{}");
  CHECK(c.model.kind == ModelKind::Mlp);
  CHECK(c.model.depth == 8);
  CHECK(c.model.width == 64);
  CHECK(c.model.eps == 1e-5);
  CHECK(c.model.residual == Residual::Identity);
  CHECK(c.data.name == "spiral");
  CHECK(c.optim.name == OptimName::AdamW);
  CHECK(c.optim.lr == 1e-3);
  CHECK(c.optim.beta2 == 0.99);
  CHECK(c.seed == 1337u);
  const Config g = config_from_string(R"({"model":{"kind":"gpt"}})");
  CHECK(g.data.name == "tinyshakespeare");
}

TEST_CASE("config round-trips through JSON and every preset is valid", "[config]") {
  for (const auto& name : preset_names()) {
    INFO(name);
#ifdef __EMSCRIPTEN__
    // gpt-small is the GPU benchmark preset (~6 GiB on a CPU); WebAssembly's 1.5 GiB cap refuses it.
    if (name == "gpt-small") {
      CHECK_THROWS_WITH(preset(name), Contains("over the cap of 1536 MiB"));
      continue;
    }
#endif
    const Config c = preset(name);
    const Config back = config_from_json(config_to_json(c));
    CHECK(config_to_json(back).dump() == config_to_json(c).dump());
  }
  CHECK(preset_names().size() >= 7);
  const Config tiny = preset("gpt-tiny");
  CHECK(tiny.model.depth == 4);
  CHECK(tiny.model.heads == 4);
  CHECK(tiny.model.width == 128);
  CHECK(tiny.model.context == 64);
  CHECK(tiny.optim.batch == 12);
  CHECK(tiny.optim.warmup == 100);
  CHECK(tiny.optim.schedule == Schedule::Cosine);
  CHECK(tiny.optim.min_lr == 1e-4);
  const Config post = preset("gpt-postln-nowarmup"), pre = preset("gpt-preln-nowarmup");
  CHECK(post.model.placement == Placement::Post);
  CHECK(pre.model.placement == Placement::Pre);
  CHECK(post.model.depth == 12);
  CHECK(post.optim.warmup == 0);
  CHECK(post.optim.lr == 1e-2);
  CHECK_THROWS_WITH(preset("nope"), Contains("unknown preset \"nope\"") && Contains("mlp-spiral"));
}

TEST_CASE("bad configs are refused with the field, the value and what is allowed", "[config]") {
  CHECK_THAT(error_of(R"({"model":{"depth":0}})"), Contains("model.depth = 0") && Contains("1..512"));
  CHECK_THAT(error_of(R"({"model":{"depth":8.5}})"), Contains("model.depth = 8.5 must be an integer"));
  CHECK_THAT(error_of(R"({"model":{"depth":"8"}})"), Contains("model.depth must be a number, got string"));
  CHECK_THAT(error_of(R"({"model":{"kind":"gpt","depth":100}})"), Contains("model.depth = 100") && Contains("1..64"));
  CHECK_THAT(error_of(R"({"model":{"kind":"gpt","width":100,"heads":3}})"),
             Contains("model.width = 100 must be divisible by model.heads = 3"));
  CHECK_THAT(error_of(R"({"model":{"dept":8}})"), Contains("unknown key \"model.dept\"") && Contains("depth"));
  CHECK_THAT(error_of(R"({"modle":{}})"), Contains("unknown key \"modle\""));
  CHECK_THAT(error_of(R"({"model":{"residual":"skip"}})"),
             Contains("model.residual = \"skip\" is not allowed") && Contains("none|identity|rezero|deepnorm"));
  CHECK_THAT(error_of(R"({"model":{"norm":3}})"), Contains("model.norm must be a string"));
  CHECK_THAT(error_of(R"({"model":{"eps":0}})"), Contains("model.eps = 0 is out of range"));
  CHECK_THAT(error_of(R"({"optim":{"lr":-0.1}})"), Contains("optim.lr = -0.1 is out of range"));
  CHECK_THAT(error_of(R"({"optim":{"lr":NaN}})"), Contains("invalid JSON"));
  CHECK_THAT(error_of(R"({"optim":{"lr":1e999}})"), Contains("optim.lr must be finite"));
  CHECK_THAT(error_of(R"({"optim":{"name":"adam"}})"), Contains("adamw|sgd"));
  CHECK_THAT(error_of(R"({"optim":{"batch":0}})"), Contains("optim.batch = 0"));
  CHECK_THAT(error_of(R"({"optim":{"lr":0.001,"min_lr":0.01,"schedule":"cosine"}})"), Contains("optim.min_lr"));
  CHECK_THAT(error_of(R"({"data":{"name":"tinyshakespeare"}})"), Contains("does not fit model.kind = \"mlp\""));
  CHECK_THAT(error_of(R"({"model":{"kind":"gpt"},"data":{"name":"spiral"}})"), Contains("allowed: tinyshakespeare"));
  CHECK_THAT(error_of(R"({"data":{"name":"swirl"}})"), Contains("data.name = \"swirl\"") && Contains("moons"));
  CHECK_THAT(error_of(R"({"seed":-1})"), Contains("seed = -1"));
  CHECK_THAT(error_of(R"({"seed":1.5})"), Contains("seed = 1.5"));
  CHECK_THAT(error_of(R"({"model":[]})"), Contains("model must be an object, got array"));
  CHECK_THAT(error_of(R"([1,2])"), Contains("must be a JSON object"));
  CHECK_THAT(error_of(R"({"model":{"depth":8})"), Contains("invalid JSON at byte"));
  CHECK_THAT(error_of(R"({"model":{"depth":8}} trailing)"), Contains("trailing characters"));
  CHECK_THAT(error_of(R"({"seed":1,"seed":2})"), Contains("duplicate key"));
  // Over the memory cap: caught before any allocation, with the sizes to change.
  CHECK_THAT(error_of(R"({"model":{"kind":"gpt","depth":64,"width":4096,"heads":64,"context":1024},"optim":{"batch":64}})"),
             Contains("over the cap of"));
}

TEST_CASE("JSON parser handles escapes and rejects junk", "[config]") {
  const Json j = parse_json(R"({"a":"x\n\u00e9\ud83d\ude00","b":[1,-2.5e3,true,null]})");
  CHECK(j.find("a")->as_string() == "x\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(j.find("b")->items()[1].as_number() == -2500.0);
  CHECK(parse_json(j.dump()).dump() == j.dump());
  CHECK_THROWS_AS(parse_json(""), Error);
  CHECK_THROWS_AS(parse_json("{\"a\":}"), Error);
  CHECK_THROWS_AS(parse_json("\"\\ud800\""), Error);
  CHECK_THROWS_AS(parse_json(std::string(100, '[') + std::string(100, ']')), Error);  // nesting limit
}

TEST_CASE("numbers are written so they read back exactly (17 significant digits at most)", "[config]") {
  // format_number writes `show`, checkpoint metadata and logs: a value must survive the round trip.
  resnorm::Rng r(99, 3);
  std::vector<double> values = {0.1, 1.0 / 3.0, 1e-300, 123456789.123456789, 0.001, 3e-4, -2.5e17, 6.02214076e23};
  for (int i = 0; i < 2000; ++i) values.push_back(std::ldexp(r.uniform() - 0.5, static_cast<int>(r.below(200)) - 100));
  for (double d : values) {
    const std::string s = resnorm::format_number(d);
    INFO(s);
    CHECK(std::strtod(s.c_str(), nullptr) == d);
  }
  CHECK(resnorm::format_number(0.001) == "0.001");  // short when short is exact
  CHECK(resnorm::format_number(0.1) == "0.1");
  // A config shown and read back is the same config.
  const resnorm::Config c = resnorm::config_from_string(R"({"optim": {"lr": 0.00123456789012345678, "eps": 1e-9}})");
  const resnorm::Config back = resnorm::config_from_string(resnorm::config_to_json(c).dump());
  CHECK(back.optim.lr == c.optim.lr);
  CHECK(back.optim.eps == c.optim.eps);
}

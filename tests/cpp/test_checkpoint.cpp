// Checkpoints: round trip, and refusal of truncated, corrupted and mismatched files.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>

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

// ---- Hostile files (issue 9) ----

namespace {
// A safetensors file from a header text and a data section of `data` zero bytes.
std::vector<uint8_t> safetensors_bytes(std::string header, size_t data) {
  while (header.size() % 8) header += ' ';
  std::vector<uint8_t> out(8 + header.size() + data, 0);
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}
// Overwrites every value of one tensor of a saved checkpoint.
std::vector<uint8_t> with_tensor_filled(const std::vector<uint8_t>& bytes, const std::string& name, float value) {
  const SafetensorsView v = parse_safetensors(bytes.data(), bytes.size());
  const TensorEntry* t = v.find(name);
  REQUIRE(t);
  std::vector<uint8_t> out = bytes;
  const size_t data_at = bytes.size() - v.data_size;
  for (size_t i = t->begin; i < t->end; i += 4) std::memcpy(out.data() + data_at + i, &value, 4);
  return out;
}
}  // namespace

// No time bound here (it failed under load in the wasm build, where clock() is wall time): linear parsing
// takes tens of milliseconds where the quadratic one took minutes, so a quadratic regression shows as this
// group running into ctest's timeout, and the results below are checked exactly.
TEST_CASE("a checkpoint header with 20,000 tensors or 100,000 metadata keys is parsed or refused", "[checkpoint]") {
  // 20,000 tensors (1.3 MB of header, 60x the largest model's) and 100,000 metadata keys.
  std::string h = "{\"__metadata__\":{\"format\":\"resnorm-safetensors-1\"}";
  for (int i = 0; i < 20000; ++i)
    h += ",\"t" + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + std::to_string(4 * i) + "," +
         std::to_string(4 * i + 4) + "]}";
  const auto many_tensors = safetensors_bytes(h + "}", 80000);
  const SafetensorsView v = parse_safetensors(many_tensors.data(), many_tensors.size());
  CHECK(v.tensors.size() == 20000);
  CHECK(v.find("t19999") != nullptr);
  Trainer b(preset("mlp-spiral"));
  CHECK_THAT(load_error(b, many_tensors), Contains("checkpoint: metadata has no \"config\""));
  // The same tensors checked against a model: every name is looked up, each in O(log n).
  CHECK_THAT(error_of([&] { load_tensors(v, b.model().slices(), b.model().params()); }), Contains("is missing"));

  std::string m = "{\"__metadata__\":{";
  for (int i = 0; i < 100000; ++i) m += (i ? ",\"m" : "\"m") + std::to_string(i) + "\":\"x\"";
  const auto many_meta = safetensors_bytes(m + ",\"m5\":\"y\"}}", 0);
  CHECK_THAT(load_error(b, many_meta), Contains("duplicate key \"m5\""));
}

TEST_CASE("a header over the size a resnorm checkpoint can have is refused before it is parsed", "[checkpoint]") {
  auto big = safetensors_bytes("{}", 0);
  const uint64_t hn = kMaxCheckpointHeader + 8;
  big.resize(8 + hn, ' ');
  for (int i = 0; i < 8; ++i) big[static_cast<size_t>(i)] = static_cast<uint8_t>(hn >> (8 * i));
  Trainer b(preset("mlp-spiral"));
  CHECK_THAT(load_error(b, big), Contains("is over the 4 MiB a resnorm checkpoint's header can take"));
}

TEST_CASE("the checkpoint's model config must equal the run's, field by field, even where shapes agree", "[checkpoint]") {
  // heads, activation, residual none vs identity and eps leave every tensor shape as it is.
  struct Change { const char* field; std::function<void(Config&)> apply; };
  const Change changes[] = {
      {"model.heads = 4, this run has 2", [](Config& c) { c.model.heads = 4; }},
      {"model.activation = \"tanh\", this run has \"relu\"", [](Config& c) { c.model.activation = Activation::Tanh; }},
      {"model.residual = \"none\", this run has \"identity\"", [](Config& c) { c.model.residual = Residual::None; }},
      {"model.eps = 0.001, this run has 1e-05", [](Config& c) { c.model.eps = 1e-3; }},
  };
  Trainer b(small_gpt(), text_corpus());
  const std::vector<float> before(b.model().params(), b.model().params() + b.model().num_params());
  REQUIRE(b.config().model.activation == Activation::Relu);
  for (const Change& ch : changes) {
    INFO(ch.field);
    Config other = small_gpt();
    ch.apply(other);
    Trainer a(other, text_corpus());
    const auto bytes = a.save();
    // Same names and shapes: only the config tells them apart.
    for (const Slice& s : b.model().slices()) CHECK(a.model().find(s.name) != nullptr);
    CHECK_THAT(load_error(b, bytes), Contains(std::string("checkpoint: it was saved with ") + ch.field));
    CHECK(std::memcmp(before.data(), b.model().params(), before.size() * 4) == 0);
  }
}

TEST_CASE("a checkpoint is run under its own config: a model built from it reads the tensors that way", "[checkpoint]") {
  // What `resnorm sample --load` and the playground do: the checkpoint's config wins wholly. A file whose
  // config was edited (2 heads -> 4, the tensors unchanged) is a 4-head model from then on.
  Trainer a(small_gpt(), text_corpus());
  a.step();
  const auto good = a.save();
  std::string s(good.begin(), good.end());
  const std::string from = "\\\"heads\\\":2", to = "\\\"heads\\\":4";
  const size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  const std::vector<uint8_t> edited(s.begin(), s.end());
  const CheckpointInfo info = read_checkpoint_info(edited.data(), edited.size());
  CHECK(info.config.model.heads == 4);
  Trainer four(info.config, "", info.vocab);
  four.load(edited.data(), edited.size());
  CHECK(std::memcmp(four.model().params(), a.model().params(), a.model().num_params() * 4) == 0);
  Trainer two(small_gpt(), "", a.vocab());
  two.load(good.data(), good.size());
  const std::vector<int> tokens = {1, 2, 3, 4, 5};
  CHECK(four.logits(tokens) != two.logits(tokens));  // same weights, read as another model
  // And the run that made it refuses the edited file, naming the field.
  CHECK_THAT(load_error(a, edited), Contains("model.heads = 4, this run has 2"));
}

TEST_CASE("weights that make the forward pass overflow are refused at load, naming the tensor", "[checkpoint]") {
  for (bool gpt : {false, true}) {
    INFO((gpt ? "gpt" : "mlp"));
    const Config c = gpt ? small_gpt() : preset("mlp-spiral");
    Trainer a(c, text_corpus());
    const auto good = a.save();
    const std::string name = gpt ? "blocks.1.mlp.fc.weight" : "blocks.2.mlp.fc.weight";
    const auto bad = with_tensor_filled(good, name, 3e38f);  // finite, but any sum of two overflows
    Trainer b(c, text_corpus());
    b.step();
    const std::vector<float> before(b.model().params(), b.model().params() + b.model().num_params());
    const std::string msg = load_error(b, bad);
    CHECK_THAT(msg, Contains("forward pass overflow"));
    CHECK_THAT(msg, Contains("in block " + std::string(gpt ? "1" : "2")));
    CHECK_THAT(msg, Contains("\"" + name + "\""));
    CHECK(std::memcmp(before.data(), b.model().params(), before.size() * 4) == 0);
    CHECK(b.steps_done() == 1);
    // The good file still loads, and a merely large weight is fine.
    b.load(good.data(), good.size());
    b.load(with_tensor_filled(good, name, 10.0f).data(), good.size());
    // In the head (after the last block).
    const std::string head = gpt ? "lm_head.weight" : "head.weight";
    if (a.model().find(head)) CHECK_THAT(load_error(b, with_tensor_filled(good, head, 3e38f)), Contains("\"" + head + "\""));
  }
}

TEST_CASE("checkpoint files are read header first: a directory, /dev/zero or a huge file is refused at once", "[checkpoint]") {
  Trainer a(preset("mlp-spiral"));
  const auto good = a.save();
  const std::string dir = "resnorm_test_dir.safetensors", path = "resnorm_test_hdr.safetensors";
  std::remove(dir.c_str());
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  CHECK_THAT(error_of([&] { read_checkpoint_file(dir); }), Contains("is a directory"));
  CHECK_THAT(error_of([&] { read_file(dir); }), Contains("is a directory"));
  ::rmdir(dir.c_str());
  CHECK_THAT(error_of([&] { read_checkpoint_file("/dev/zero"); }), Contains("not a regular file"));
  CHECK_THAT(error_of([&] { read_file("/dev/zero", 1 << 20, "config file"); }),
             Contains("\"/dev/zero\" is not a regular file (a character device)"));

  // A 1 GB sparse file (WebAssembly's file layer sees sizes up to 2 GB): its first 8 bytes are zeros,
  // so its header length is 0.
  const off_t huge = off_t(1) << 30;
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, huge) == 0);
    ::close(fd);
  }
  CHECK_THAT(error_of([&] { read_checkpoint_file(path); }), Contains("header length 0 does not fit a file of 1073741824 bytes"));
  CHECK_THAT(error_of([&] { read_file(path, 1 << 20, "config file"); }), Contains("is over 1048576 bytes"));
  // A good header followed by 1 GB: the header is checked (here: against the model) before any data is read.
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, good.data(), good.size() - 8) == static_cast<ssize_t>(good.size() - 8));
    REQUIRE(::ftruncate(fd, huge) == 0);
    ::close(fd);
  }
  bool checked = false;
  CHECK_THAT(error_of([&] { read_checkpoint_file(path, [&](const SafetensorsView&) { checked = true; }); }),
             Contains("trailing bytes after the last tensor"));
  CHECK_FALSE(checked);
  std::remove(path.c_str());
  // A good file reads whole, and the check sees its header first.
  write_file_atomic(path, good);
  std::string seen;
  CHECK(read_checkpoint_file(path, [&](const SafetensorsView& v) { seen = v.metadata.at("format"); CHECK(v.data == nullptr); }) == good);
  CHECK(seen == "resnorm-safetensors-1");
  CHECK_THAT(error_of([&] { read_checkpoint_file(path, [](const SafetensorsView&) { throw Error("refused"); }); }),
             Contains("refused"));
  std::remove(path.c_str());
}

TEST_CASE("a failed atomic write leaves neither a partial file nor a .tmp", "[checkpoint]") {
  Trainer a(preset("mlp-spiral"));
  const auto bytes = a.save();
  const std::string dir = "resnorm_test_target";
  std::remove(dir.c_str());
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  CHECK_THROWS_WITH(write_file_atomic(dir, bytes), Contains("cannot replace"));  // rename onto a directory
  struct stat st {};
  CHECK(::stat((dir + ".tmp").c_str(), &st) != 0);
  CHECK_THAT(error_of([&] { check_writable(dir); }), Contains("is a directory"));
  ::rmdir(dir.c_str());
  CHECK_THAT(error_of([&] { check_writable("/nonexistent-dir/x.safetensors"); }), Contains("cannot write"));
  CHECK(error_of([&] { check_writable("resnorm_test_new_file"); }) == "(accepted)");
  CHECK(::stat("resnorm_test_new_file", &st) != 0);  // checking created nothing
}

// ---- The vocabulary format (issue 10): code points since the Unicode vocabulary, bytes before ----

namespace {
std::string chinese_corpus() {
  std::string t;
  for (int i = 0; i < 200; ++i) t += "床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n";
  return t;
}
std::vector<uint8_t> with_metadata(const std::vector<uint8_t>& bytes, const std::function<void(std::map<std::string, std::string>&)>& edit) {
  const SafetensorsView v = parse_safetensors(bytes.data(), bytes.size());
  std::map<std::string, std::string> meta = v.metadata;
  edit(meta);
  std::vector<Slice> slices;
  size_t off = 0;
  for (const TensorEntry& t : v.tensors) {
    Slice s;
    s.name = t.name;
    s.shape = t.shape;
    s.offset = off;
    s.size = (t.end - t.begin) / 4;
    slices.push_back(s);
    off += (t.end - t.begin) / 4;
  }
  std::vector<float> params(off);
  std::memcpy(params.data(), v.data, off * 4);
  return write_safetensors(slices, params.data(), meta);
}
}  // namespace

TEST_CASE("a checkpoint of a Chinese text stores code points and round-trips, sampling the same UTF-8", "[checkpoint]") {
  const Config c = small_gpt();
  Trainer a(c, chinese_corpus());
  REQUIRE(a.model().vocab() == 20);  // 19 characters and the newline
  for (int i = 0; i < 5; ++i) a.step();
  const auto bytes = a.save();
  const SafetensorsView v = parse_safetensors(bytes.data(), bytes.size());
  CHECK(v.metadata.at("vocab_format") == "codepoints");
  CHECK(v.metadata.at("vocab").find("26126") != std::string::npos);  // 明 = U+660E = 26126
  const CheckpointInfo info = read_checkpoint_info(bytes.data(), bytes.size());
  CHECK(info.vocab == a.vocab());
  // Inference from the checkpoint alone, as `resnorm sample` and the playground do.
  Trainer b(info.config, "", info.vocab);
  b.load(bytes.data(), bytes.size());
  const std::string s = b.sample("明月", 30, 1.0, 5, 9);
  CHECK(s == a.sample("明月", 30, 1.0, 5, 9));
  const std::u32string cps = utf8_decode(s, "sample");  // valid UTF-8, 30 characters of the vocabulary
  CHECK(cps.size() == 30);
  for (char32_t ch : cps) CHECK(std::u32string(utf8_decode(a.vocab(), "v")).find(ch) != std::u32string::npos);
  // Training resumes on the same text; another text's vocabulary is refused, naming both sizes.
  Trainer r(c, chinese_corpus());
  r.load(bytes.data(), bytes.size());
  CHECK(r.steps_done() == 5);
  Trainer ascii(c, text_corpus());
  CHECK_THAT(load_error(ascii, bytes), Contains("its vocabulary (20 characters) differs from this run's text ("));
}

TEST_CASE("a byte-vocabulary checkpoint of the first format still loads and samples as before", "[checkpoint]") {
  // tests/cpp/data/bytevocab-v1.safetensors was written by the byte-vocabulary build (main at 047c243):
  //   resnorm train --config {gpt, depth 1, width 8, heads 2, context 8, batch 2, steps 3, seed 7}
  //                 --data TEXT --save ...  with TEXT holding "é" and a combining accent as UTF-8 bytes,
  // so its vocabulary has the bytes C3 A9 CC 81. That build's
  //   resnorm sample --load ... --prompt "to be" --tokens 40 --seed 3 --temperature 1
  // printed the bytes below after the prompt. The ids must be the same now; each byte id is read as
  // the code point of the same number (Latin-1), so the text is those bytes as Latin-1 characters.
  const auto bytes = read_file(std::string(RESNORM_SOURCE_DIR) + "/tests/cpp/data/bytevocab-v1.safetensors");
  const SafetensorsView v = parse_safetensors(bytes.data(), bytes.size());
  REQUIRE(v.metadata.count("vocab_format") == 0);
  const CheckpointInfo info = read_checkpoint_info(bytes.data(), bytes.size());
  Trainer t(info.config, "", info.vocab);
  t.load(bytes.data(), bytes.size());
  CHECK(t.steps_done() == 3);
  const char* hex = "626261c3616e61c30a66747472c36f6fa965206681660a626520612066c3cc816461656e74cc0a66";
  std::string expected;
  for (const char* p = hex; *p; p += 2) utf8_append(expected, static_cast<char32_t>(std::stoi(std::string(p, 2), nullptr, 16)));
  CHECK(t.sample("to be", 40, 1.0, 0, 3) == expected);
  // Saved again, it is in the new format with the same vocabulary.
  const auto again = t.save();
  CHECK(read_checkpoint_info(again.data(), again.size()).vocab == info.vocab);
}

TEST_CASE("bad vocabulary metadata is refused naming the fault", "[checkpoint]") {
  Trainer a(small_gpt(), chinese_corpus());
  const auto good = a.save();
  Trainer b(small_gpt(), chinese_corpus());
  auto err = [&](const std::function<void(std::map<std::string, std::string>&)>& edit) {
    return load_error(b, with_metadata(good, edit));
  };
  CHECK(err([](auto&) {}) == "(accepted)");  // the rewrite itself keeps a good file good
  CHECK_THAT(err([](auto& m) { m["vocab_format"] = "utf16"; }), Contains("unknown vocab_format \"utf16\""));
  CHECK_THAT(err([](auto& m) { m.erase("vocab_format"); }), Contains("bad byte value 12290"));  // 。 (U+3002) in a byte vocab
  CHECK_THAT(err([](auto& m) { m["vocab"] = "[10,1114112]"; }), Contains("bad code point 1114112"));
  CHECK_THAT(err([](auto& m) { m["vocab"] = "[10,55296]"; }), Contains("bad code point 55296"));  // a surrogate
  CHECK_THAT(err([](auto& m) { m["vocab"] = "[20,10]"; }), Contains("not sorted"));
  CHECK_THAT(err([](auto& m) { m["vocab"] = "[10]"; }), Contains("vocab must be 2..4096 code points"));
  CHECK_THAT(err([](auto& m) { m.erase("vocab"); }), Contains("no \"vocab\""));
  CHECK_THAT(err([](auto& m) { m.erase("vocab_format"); m["vocab"] = "[10,300]"; }), Contains("bad byte value 300"));
}

namespace {
// Trains n steps and returns the parameters and every step's loss.
void run_steps(Trainer& tr, int n, std::vector<double>& losses) {
  for (int i = 0; i < n; ++i) losses.push_back(tr.step().loss);
}
std::vector<float> params_of(const Trainer& tr) {
  return std::vector<float>(tr.model().params(), tr.model().params() + tr.model().num_params());
}
}  // namespace

TEST_CASE("with the optimiser state, train 20 = train 10, save, load, train 10, bit for bit", "[checkpoint]") {
  for (const bool gpt : {false, true}) {
    for (const char* optim : {"adamw", "sgd"}) {
      Config c = gpt ? small_gpt() : preset("mlp-spiral");
      c.optim.name = std::string(optim) == "sgd" ? OptimName::Sgd : OptimName::AdamW;
      c.optim.weight_decay = 0.1;
      c.optim.warmup = 3;
      c.optim.steps = 20;
      const std::string text = gpt ? text_corpus() : "";
      INFO((gpt ? "gpt " : "mlp ") << optim);
      Trainer whole(c, text);
      std::vector<double> whole_losses, split_losses;
      run_steps(whole, 20, whole_losses);

      Trainer first(c, text);
      run_steps(first, 10, split_losses);
      const std::vector<uint8_t> bytes = first.save(true);
      const SafetensorsView v = parse_safetensors(bytes.data(), bytes.size());
      CHECK(v.metadata.at("optim_state") == optim);
      CHECK(v.metadata.at("optim_t") == "10");
      CHECK(v.find(std::string(std::string(optim) == "sgd" ? kMomentumPrefix : kExpAvgSqPrefix) +
                   first.model().slices().back().name) != nullptr);
      Trainer second(c, text);
      second.load(bytes.data(), bytes.size());
      CHECK(second.steps_done() == 10);
      run_steps(second, 10, split_losses);
      CHECK(split_losses == whole_losses);
      CHECK(params_of(second) == params_of(whole));

      // Without the state (older checkpoints, --no-moments) the moments and the batch stream restart.
      Trainer third(c, text);
      const std::vector<uint8_t> plain = first.save(false);
      CHECK(parse_safetensors(plain.data(), plain.size()).tensors.size() == first.model().slices().size());
      third.load(plain.data(), plain.size());
      std::vector<double> fresh;
      run_steps(third, 10, fresh);
      CHECK(fresh != std::vector<double>(whole_losses.begin() + 10, whole_losses.end()));
    }
  }
}

TEST_CASE("optimiser state in a checkpoint is checked: missing, non-finite, unknown, another optimiser", "[checkpoint]") {
  Config c = preset("mlp-spiral");
  Trainer a(c);
  a.step();
  std::vector<uint8_t> bytes = a.save(true);
  // Another optimiser: the state is ignored (fresh moments), the parameters load.
  Config s = c;
  s.optim.name = OptimName::Sgd;
  Trainer b(s);
  b.load(bytes.data(), bytes.size());
  CHECK(params_of(b) == params_of(a));
  // A missing moment tensor: refused, naming it; nothing changes.
  const SafetensorsView v = parse_safetensors(bytes.data(), bytes.size());
  std::map<std::string, std::string> meta = v.metadata;
  Trainer full(c);
  const auto& sl = full.model().slices();
  std::vector<uint8_t> only_m = write_safetensors(sl, a.model().params(), meta, {{kExpAvgPrefix, a.model().params()}});
  Trainer d(c);
  const std::vector<float> before = params_of(d);
  CHECK_THAT(load_error(d, only_m), Contains("optim.exp_avg_sq.") && Contains("is missing"));
  CHECK(params_of(d) == before);
  // A non-finite moment: refused, naming the tensor.
  std::vector<float> bad(a.model().num_params(), 0.0f);
  bad[sl.back().offset] = NAN;
  std::vector<uint8_t> nonfinite =
      write_safetensors(sl, a.model().params(), meta, {{kExpAvgPrefix, bad.data()}, {kExpAvgSqPrefix, bad.data()}});
  CHECK_THAT(load_error(d, nonfinite), Contains("non-finite") && Contains("optim.exp_avg."));
  // A tensor under an unknown optim. name: refused as unexpected.
  std::vector<uint8_t> bogus = write_safetensors(sl, a.model().params(), meta, {{"optim.bogus.", a.model().params()}});
  CHECK_THAT(load_error(d, bogus), Contains("unexpected tensor \"optim.bogus."));
  CHECK(params_of(d) == before);
  // A negative second moment (issue 21): refused naming the tensor and the index; a negative first
  // moment is a valid state and loads. (Reference: AdamW's v is a mean of squared gradients.)
  std::vector<float> m(a.model().num_params(), 0.0f), v2(a.model().num_params(), 0.0f);
  m[sl.back().offset + 1] = -1.0f;
  std::vector<uint8_t> neg_m = write_safetensors(sl, a.model().params(), meta, {{kExpAvgPrefix, m.data()}, {kExpAvgSqPrefix, v2.data()}});
  CHECK(load_error(d, neg_m) == "(accepted)");
  v2[sl.back().offset + 1] = -1.0f;
  std::vector<uint8_t> neg_v = write_safetensors(sl, a.model().params(), meta, {{kExpAvgPrefix, m.data()}, {kExpAvgSqPrefix, v2.data()}});
  Trainer e(c);
  const std::vector<float> e_before = params_of(e);
  CHECK_THAT(load_error(e, neg_v), Contains("tensor \"optim.exp_avg_sq." + sl.back().name + "\" holds a negative value -1 at index 1"));
  CHECK(params_of(e) == e_before);
}

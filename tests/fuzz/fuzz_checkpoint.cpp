// libFuzzer target: a checkpoint file from a stranger (`resnorm sample/train --load`, a file dropped on
// the playground). Whatever the bytes, reading the header and loading into a model either throws
// resnorm::Error or loads; a checkpoint that loaded saves and loads again. The two models are small
// (an mlp and a one-layer gpt), and the seed corpus (tests/fuzz/corpus/checkpoint) holds checkpoints
// of exactly these models, so mutations reach the tensor checks and not only the header's.
// Built by the `fuzz` preset (clang, -fsanitize=fuzzer,address,undefined); run by scripts/fuzz.sh.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "config.h"
#include "error.h"
#include "trainer.h"

namespace {

// The configs of the seed checkpoints (tests/fuzz/make_seeds.sh writes them with the CLI).
const char* kMlp = R"({"model":{"kind":"mlp","depth":2,"width":8},"data":{"name":"spiral","samples":64},"optim":{"batch":16,"steps":4}})";
const char* kGpt = R"({"model":{"kind":"gpt","depth":1,"width":16,"heads":2,"context":8},"data":{"name":"tinyshakespeare"},"optim":{"batch":2,"steps":4}})";

std::unique_ptr<resnorm::Trainer> make(const char* json, const std::string& vocab) {
  return std::make_unique<resnorm::Trainer>(resnorm::config_from_string(json), "", vocab);
}

void try_load(resnorm::Trainer& t, const uint8_t* data, size_t size) {
  try {
    t.load(data, size);
  } catch (const resnorm::Error&) {
    return;
  }
  const std::vector<uint8_t> again = t.save();
  try {
    t.load(again.data(), again.size());
  } catch (const resnorm::Error& e) {
    std::fprintf(stderr, "a checkpoint that loaded, once saved, is refused: %s\n", e.what());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<resnorm::Trainer> mlp = make(kMlp, "");
  static const std::unique_ptr<resnorm::Trainer> gpt = make(kGpt, "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  try {
    (void)resnorm::read_checkpoint_info(data, size);
  } catch (const resnorm::Error&) {
  }
  try_load(*mlp, data, size);
  try_load(*gpt, data, size);
  return 0;
}

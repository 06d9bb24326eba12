// libFuzzer target: a config from a stranger (a file given to `resnorm --config`, a link's JSON, an
// engine API call). Whatever the bytes, parsing either throws resnorm::Error or yields a config that
// is valid, serialises, and reads back to the same JSON (a round trip that loses or invents a field is
// a bug). AddressSanitizer and UndefinedBehaviorSanitizer catch memory and arithmetic faults; the
// fuzzer's -rss_limit_mb and -timeout catch blow-ups and quadratic cases.
// Built by the `fuzz` preset (clang, -fsanitize=fuzzer,address,undefined); run by scripts/fuzz.sh.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config.h"
#include "error.h"
#include "json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  resnorm::Config c;
  try {
    c = resnorm::config_from_string(text);
  } catch (const resnorm::Error&) {
    return 0;  // refused with a message: the expected outcome for most inputs
  }
  // Accepted: it must survive its own round trip and the memory estimate.
  const std::string once = resnorm::config_to_json(c).dump();
  std::string twice;
  try {
    twice = resnorm::config_to_json(resnorm::config_from_string(once)).dump();
  } catch (const resnorm::Error& e) {
    std::fprintf(stderr, "an accepted config's own JSON is refused: %s\n%s\n", e.what(), once.c_str());
    std::abort();
  }
  if (once != twice) {
    std::fprintf(stderr, "config round trip changed it:\n%s\n%s\n", once.c_str(), twice.c_str());
    std::abort();
  }
  const int vocab = c.model.kind == resnorm::ModelKind::Gpt ? 65 : 0;
  const double b = resnorm::estimate_bytes(c, vocab);
  if (!(b > 0)) { std::fprintf(stderr, "estimate_bytes %g for %s\n", b, once.c_str()); std::abort(); }
  return 0;
}

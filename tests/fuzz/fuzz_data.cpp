// libFuzzer target: the text and CSV loaders (issue 21) with a stranger's file: a points CSV (`--data
// POINTS.csv`, the page's own-points upload) and a training text (`--data TEXT`, the page's own text).
// The first byte picks the loader and a context; the rest is the file. Whatever the bytes, each either
// throws resnorm::Error with a message that printable() makes one line of printable UTF-8, or yields
// data within its promises: points inside the square with labels 0/1 split into train and test, a text
// whose vocabulary is sorted, distinct and at most kMaxVocab and whose every character encodes and
// decodes back. AddressSanitizer and UndefinedBehaviorSanitizer catch memory and arithmetic faults;
// -rss_limit_mb and -timeout catch blow-ups (a row of a million commas copied field by field).
// Built by the `fuzz` preset; run by scripts/fuzz.sh.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "data.h"
#include "error.h"
#include "json.h"

namespace {
[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
  std::abort();
}

// A message shown to a user: one line, no control characters, valid UTF-8 (through printable()).
void check_message(const std::string& m) {
  const std::string p = resnorm::printable(m);
  for (unsigned char c : p)
    if (c < 0x20 || c == 0x7f) fail("printable() left a control byte", p);
  try {
    resnorm::utf8_decode(p, "message");
  } catch (const resnorm::Error&) {
    fail("printable() left bytes that are not UTF-8", p);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int pick = data[0];
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (pick % 2 == 0) {
      const resnorm::Dataset2D d = resnorm::points_from_csv(body, 0.2, static_cast<uint32_t>(pick));
      if (d.y_train.size() + d.y_test.size() < static_cast<size_t>(resnorm::kMinPoints) ||
          d.y_train.size() + d.y_test.size() > static_cast<size_t>(resnorm::kMaxPoints))
        fail("points: a count outside the limits was accepted", std::to_string(d.y_train.size() + d.y_test.size()));
      for (const auto* xs : {&d.x_train, &d.x_test})
        for (float v : *xs)
          if (!(std::fabs(v) <= resnorm::kDataExtent)) fail("points: a coordinate outside the square", std::to_string(v));
      for (const auto* ys : {&d.y_train, &d.y_test})
        for (int y : *ys)
          if (y != 0 && y != 1) fail("points: a label other than 0 or 1", std::to_string(y));
    } else {
      const int context = 1 + (pick >> 1) % 64;
      const std::string vocab = resnorm::text_vocab(body);
      resnorm::CharData cd(body);
      if (cd.vocab() != vocab) fail("text: CharData's vocabulary differs from text_vocab", vocab);
      const std::u32string cps = resnorm::utf8_decode(vocab, "vocab");
      if (cps.size() > static_cast<size_t>(resnorm::kMaxVocab)) fail("text: vocabulary over the cap", std::to_string(cps.size()));
      for (size_t i = 1; i < cps.size(); ++i)
        if (cps[i] <= cps[i - 1]) fail("text: vocabulary not sorted and distinct", vocab);
      for (int id = 0; id < cd.vocab_size(); ++id)
        if (cd.encode_text(cd.decode(id), "t").at(0) != id) fail("text: a character does not round-trip", cd.decode(id));
      resnorm::check_text_splits(body, context);  // then both splits must give batches
      resnorm::Rng rng(1, 2);
      std::vector<int> x(static_cast<size_t>(context)), y(static_cast<size_t>(context));
      cd.batch(rng, false, 1, context, x.data(), y.data());
      cd.batch(rng, true, 1, context, x.data(), y.data());
    }
  } catch (const resnorm::Error& e) {
    check_message(e.what());
  }
  return 0;
}

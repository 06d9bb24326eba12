// Issue 21: hostile input refused with one clear line. RFC 8259 number and string strictness, messages
// that quote input made printable, FIFOs and other special files refused at once, saves through a
// temporary of their own (stale ones of dead writers removed), a short text found before step 1.
#include <catch2/catch.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "config.h"
#include "data.h"
#include "error.h"
#include "json.h"

using namespace resnorm;
using Catch::Matchers::Contains;

namespace {
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}
std::string json_error(const std::string& text) {
  return error_of([&] { parse_json(text); });
}
std::string config_error(const std::string& text) {
  return error_of([&] { config_from_string(text); });
}
bool one_printable_line(const std::string& m) {
  for (unsigned char c : m)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}
}  // namespace

// RFC 8259 section 6's grammar: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?. The accepted list is
// what Python's json module (strict RFC 8259 numbers) also reads; each refusal names token and byte.
TEST_CASE("JSON numbers follow RFC 8259 exactly; errors name the token and the byte", "[config]") {
  for (const char* ok : {"0", "-0", "12", "-12", "1.5", "0.5", "1e5", "1E+5", "1e-5", "-0.0e0", "1e-999",
                         "1.7976931348623157e308"})
    CHECK(json_error(ok) == "(accepted)");
  CHECK(parse_json("[-12.5e1]").items()[0].as_number() == -125.0);
  CHECK(json_error("{\"seed\": 0012}") == "invalid JSON at byte 9: bad number \"0012\" (leading zero)");
  CHECK(json_error("[-01]") == "invalid JSON at byte 1: bad number \"-01\" (leading zero)");
  CHECK(json_error("[1.]") == "invalid JSON at byte 1: bad number \"1.\" (a digit must follow '.')");
  CHECK(json_error("[.5]") == "invalid JSON at byte 1: unexpected character '.'");
  CHECK(json_error("[-]") == "invalid JSON at byte 1: bad number \"-\" (a digit must follow '-')");
  CHECK(json_error("[1e]") == "invalid JSON at byte 1: bad number \"1e\" (a digit must follow the exponent)");
  CHECK(json_error("[1e+]") == "invalid JSON at byte 1: bad number \"1e+\" (a digit must follow the exponent)");
  CHECK(json_error("[+1]") == "invalid JSON at byte 1: unexpected character '+'");
  CHECK(json_error("[1.2.3]") == "invalid JSON at byte 1: bad number \"1.2.3\" (unexpected character after the number)");
  CHECK(json_error("[1-2]") == "invalid JSON at byte 1: bad number \"1-2\" (unexpected character after the number)");
  CHECK(json_error("[0x10]") == "invalid JSON at byte 2: expected ']'");
  CHECK(json_error("{\"seed\": 1e999}") == "invalid JSON at byte 9: number \"1e999\" is out of range (beyond +-1.8e308)");
  CHECK(json_error("[-1e400]") == "invalid JSON at byte 1: number \"-1e400\" is out of range (beyond +-1.8e308)");
  // In a config: an invalid number, no longer "seed = null" or "must be finite".
  CHECK(config_error("{\"seed\": 1e999}") == "config: invalid JSON at byte 9: number \"1e999\" is out of range (beyond +-1.8e308)");
}

TEST_CASE("JSON strings: a lone surrogate is refused, high or low, naming the escape and its byte", "[config]") {
  CHECK(json_error(R"(["\ud83d\ude00"])") == "(accepted)");
  CHECK(parse_json(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");
  CHECK(json_error(R"(["\udc00"])") == R"(invalid JSON at byte 2: lone surrogate \udc00 (a low surrogate without a high one before it))");
  CHECK(json_error(R"(["ab\ud800"])") == R"(invalid JSON at byte 4: lone surrogate \ud800)");
  CHECK_THAT(json_error(R"(["\ud800\u0041"])"), Contains("bad surrogate pair"));
}

TEST_CASE("messages that quote input escape every non-printable character: one line, no terminal codes", "[config]") {
  CHECK(printable("plain \xc3\xa9 \xe4\xb8\xad") == "plain \xc3\xa9 \xe4\xb8\xad");  // é and 中 stay
  CHECK(printable("\x1b[31mred\x07\nx\t\r") == R"(\u001b[31mred\u0007\nx\t\r)");
  CHECK(printable("\x7f\xc2\x9b") == R"(\u007f\u009b)");                    // DEL, and C1's CSI as UTF-8
  CHECK(printable("a\xe2\x80\xae" "b\xe2\x80\xa8") == R"(a\u202eb\u2028)");  // bidi override, line separator
  CHECK(printable("\xff\xc0\xaf\xed\xa0\x80") == R"(\xff\xc0\xaf\xed\xa0\x80)");  // not UTF-8: each byte in hex
  const std::string e = config_error(R"({"model":{"kind":"\u001b[31mred\u0007\nx"}})");
  CHECK(e == R"(config: model.kind = "\u001b[31mred\u0007\nx" is not allowed (allowed: mlp|gpt|cnn))");
  CHECK(config_error(R"({"x\n\u009b":1})") == R"(config: unknown key "x\n\u009b" (allowed at top level: model, data, optim, eval, seed))");
  CHECK(config_error(R"({"model":{"\u0007":1}})").find(R"(config: unknown key "model.\u0007")") == 0);
  CHECK(json_error(R"({"\u001b": 1, "\u001b": 2})").find(R"(duplicate key "\u001b")") != std::string::npos);
  CHECK(json_error("[\x01]") == "invalid JSON at byte 1: unexpected character 0x01");
  CHECK(error_of([] { preset("\x1b]0;title\x07"); }).find(R"(unknown preset "\u001b]0;title\u0007")") == 0);
  for (const std::string& m : {e, json_error(R"({"\u001b": 1, "\u001b": 2})"), json_error("[\x01]"),
                               config_error("{\"data\":{\"name\":\"\xc2\x9b\"}}")})
    CHECK(one_printable_line(m));
}

TEST_CASE("points CSV: the field count is checked before fields are copied; quoted fields are printable", "[data]") {
  std::string commas(1 << 20, ',');
  CHECK_THAT(error_of([&] { points_from_csv(commas, 0.2, 1); }), Contains("line 1: has 1048577 fields"));
  std::string ok = "x,y,label\n";
  for (int i = 0; i < 10; ++i) ok += "0.1,0.2," + std::to_string(i % 2) + "\n";
  CHECK(error_of([&] { points_from_csv(ok + "0.1,\x1b[2J,1\n", 0.2, 1); }) ==
        R"(points: line 12: y = "\u001b[2J" is not a number (want x,y,label; x and y in -1.5..1.5, label 0 or 1))");
}

TEST_CASE("a text too short for the context is refused before training, naming the split and the sizes", "[data]") {
  const std::string six_hundred(600, 'a');
  std::string text = six_hundred;
  text[1] = 'b';
  // 600 characters: 540 train, 60 validate; context 64 needs 66 in each (CharData::batch draws T + 1 + 1).
  CHECK(error_of([&] { check_text_splits(text, 64); }) ==
        "data: the text has 600 characters: its validation part (the last 10%, 60 characters) is shorter than "
        "model.context + 2 = 66, so no batch can be drawn; give a text of at least 660 characters or a smaller model.context");
  CHECK(error_of([&] { check_text_splits(text, 58); }) == "(accepted)");  // 60 = 58 + 2: the edge
  CHECK_THAT(error_of([&] { check_text_splits(text, 59); }), Contains("validation part"));
  // The reference: what CharData itself does at the edge, drawing a batch from each split.
  CharData cd(text);
  Rng rng(1, 2);
  std::vector<int> x(58), y(58);
  CHECK(error_of([&] { cd.batch(rng, true, 1, 58, x.data(), y.data()); }) == "(accepted)");
  x.resize(59), y.resize(59);
  CHECK_THAT(error_of([&] { cd.batch(rng, true, 1, 59, x.data(), y.data()); }), Contains("validation text (60 characters)"));
  // Characters, not bytes: 600 two-byte characters are 600 characters.
  std::string wide;
  for (int i = 0; i < 600; ++i) wide += i % 2 ? "\xc3\xa9" : "\xc3\xa8";
  CHECK(error_of([&] { check_text_splits(wide, 58); }) == "(accepted)");
}

#ifndef __EMSCRIPTEN__
TEST_CASE("FIFOs and devices are refused at once for reading; a FIFO or socket is refused as a log", "[checkpoint]") {
  const std::string fifo = "resnorm_test.fifo";
  std::remove(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Without a writer, open() of a FIFO blocks forever; these return at once with a message.
  CHECK(error_of([&] { read_file(fifo, 1 << 20, "config file"); }) == "\"resnorm_test.fifo\" is not a regular file (a FIFO); give a file");
  CHECK(error_of([&] { read_checkpoint_file(fifo); }) == "\"resnorm_test.fifo\" is not a regular file (a FIFO); give a file");
  CHECK(error_of([&] { check_writable(fifo); }) == "\"resnorm_test.fifo\" is not a regular file or a character device; give a file");
  std::remove(fifo.c_str());
  CHECK(error_of([&] { check_writable("/dev/null"); }) == "(accepted)");  // a character device stays a valid log
  CHECK_THAT(error_of([&] { read_file("/dev/null"); }), Contains("a character device"));
  CHECK_THAT(error_of([&] { read_file("bad\x1b[2Jname"); }), Contains(R"("bad\u001b[2Jname")"));
}

TEST_CASE("saves go through a temporary of their own; a dead writer's stale temporary is removed, nothing else", "[checkpoint]") {
  const std::string path = "resnorm_test_save.safetensors";
  const std::vector<uint8_t> bytes{1, 2, 3, 4};
  // A pid that is surely dead: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  ::waitpid(child, nullptr, 0);
  auto touch = [](const std::string& p) { std::fclose(std::fopen(p.c_str(), "w")); };
  auto exists = [](const std::string& p) { struct stat st {}; return ::lstat(p.c_str(), &st) == 0; };
  const std::string dead = path + ".tmp." + std::to_string(child) + ".AbC123";
  const std::string alive = path + ".tmp." + std::to_string(::getppid()) + ".AbC123";  // our parent runs
  const std::string other = path + ".tmp." + std::to_string(child) + ".toolongname";  // not the pattern
  const std::string link = path + ".tmp." + std::to_string(child) + ".LnK456";          // a symlink: kept
  const std::string legacy = path + ".tmp";                                              // older versions' name
  for (const auto& p : {dead, alive, other, legacy}) touch(p);
  std::remove(link.c_str());
  REQUIRE(::symlink("/etc/hostname", link.c_str()) == 0);
  write_file_atomic(path, bytes);
  CHECK(read_file(path) == bytes);
  CHECK_FALSE(exists(dead));
  CHECK(exists(alive));
  CHECK(exists(other));
  CHECK(exists(link));
  CHECK(exists(legacy));
  // No temporary of this process is left behind.
  const std::string mine = path + ".tmp." + std::to_string(::getpid()) + ".";
  int left = 0;
  DIR* d = ::opendir(".");
  REQUIRE(d);
  while (const dirent* e = ::readdir(d)) left += std::string(e->d_name).compare(0, mine.size(), mine) == 0;
  ::closedir(d);
  CHECK(left == 0);
  for (const auto& p : {alive, other, link, legacy, path}) std::remove(p.c_str());
}
#endif

// RFC 8259 section 8.1: JSON text is UTF-8. Reference: the well-formed sequences of RFC 3629 (Table 3-7).
TEST_CASE("JSON strings must be UTF-8: overlong forms, surrogates as bytes and stray bytes are refused", "[config]") {
  CHECK(json_error("[\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"]") == "(accepted)");
  CHECK(json_error("[\"ab\xff\"]") == "invalid JSON at byte 4: a string holds bytes that are not UTF-8");
  CHECK(json_error("[\"\xc0\xaf\"]") == "invalid JSON at byte 2: a string holds bytes that are not UTF-8");
  CHECK(json_error("[\"\xed\xa0\x80\"]") == "invalid JSON at byte 2: a string holds bytes that are not UTF-8");
  CHECK(json_error("[\"\xe4\xb8\"]") == "invalid JSON at byte 2: a string holds bytes that are not UTF-8");
  CHECK(json_error("[\"\xf4\x90\x80\x80\"]") == "invalid JSON at byte 2: a string holds bytes that are not UTF-8");
}

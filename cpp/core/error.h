// The one exception type of the core: every refusal of bad input is an Error with a message
// that names what was wrong. The CLI, the wasm bindings and the tests all catch this type.
#pragma once
#include <stdexcept>
#include <string>

namespace resnorm {
struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};
}  // namespace resnorm

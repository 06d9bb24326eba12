// The project's own RNG: the same bits on every platform (native, wasm, CUDA host code).
// std:: distributions are implementation-defined, so they are not used anywhere in the core.
// Generator: PCG32 (O'Neill 2014, pcg-random.org, XSH-RR output), seeded through SplitMix64.
#pragma once
#include <cmath>
#include <cstdint>

namespace resnorm {

inline uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0) { reseed(seed, stream); }
  void reseed(uint64_t seed, uint64_t stream = 0) {
    uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull);
    state_ = splitmix64(s);
    inc_ = splitmix64(s) | 1u;
  }
  // The generator's position, for checkpoints that resume a run's batch stream (metadata "batch_rng").
  uint64_t state() const { return state_; }
  uint64_t increment() const { return inc_; }
  void set_state(uint64_t state, uint64_t inc) {
    state_ = state;
    inc_ = inc | 1u;
  }
  uint32_t next_u32() {
    uint64_t old = state_;
    state_ = old * 6364136223846793005ull + inc_;
    uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = static_cast<uint32_t>(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
  }
  // Uniform in [0, 1) with 24 random bits (exactly representable as float).
  float uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n) without modulo bias (Lemire's method, rejection step).
  uint32_t below(uint32_t n) {
    uint64_t m = static_cast<uint64_t>(next_u32()) * n;
    uint32_t l = static_cast<uint32_t>(m);
    if (l < n) {
      uint32_t t = (0u - n) % n;
      while (l < t) { m = static_cast<uint64_t>(next_u32()) * n; l = static_cast<uint32_t>(m); }
    }
    return static_cast<uint32_t>(m >> 32);
  }
  // Standard normal by Box-Muller in double precision (double libm results round to the same
  // float on glibc and musl/emscripten in practice), one value per call for simplicity.
  float normal() {
    double u1 = (static_cast<double>(next_u32()) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
    double u2 = static_cast<double>(next_u32()) * (1.0 / 4294967296.0);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }

 private:
  uint64_t state_ = 0, inc_ = 1;
};

}  // namespace resnorm

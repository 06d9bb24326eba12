// Four-float vectors through the GCC / clang vector extensions: SSE on x86, simd128 on wasm, the same IEEE
// float operations in both, so code written with them gives the same bits in the wasm build and in the
// native SSE4.1 build that is its bit-exact comparison point (none of it may be contracted into FMAs: the
// files using it build with -ffp-contract=off natively, and wasm SIMD has no FMA).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace resnorm::simd {

typedef float v4 __attribute__((vector_size(16)));
typedef std::int32_t v4i __attribute__((vector_size(16)));

inline v4 load(const float* p) {
  v4 v;
  std::memcpy(&v, p, sizeof v);  // an unaligned load (movups / v128.load)
  return v;
}
inline void store(float* p, v4 v) { std::memcpy(p, &v, sizeof v); }
inline v4 splat(float x) { return v4{x, x, x, x}; }
// The first `count` floats of p (1..4) as a vector, zeros after them; and the first `count` lanes stored.
inline v4 load_part(const float* p, std::size_t count) {
  if (count == 4) return load(p);
  float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::memcpy(buf, p, count * sizeof(float));
  return load(buf);
}
inline void store_part(float* p, v4 v, std::size_t count) {
  if (count == 4) return store(p, v);
  float buf[4];
  store(buf, v);
  std::memcpy(p, buf, count * sizeof(float));
}
inline v4 bits_to_float(v4i x) {
  v4 v;
  std::memcpy(&v, &x, sizeof v);
  return v;
}
inline v4i float_to_bits(v4 x) {
  v4i v;
  std::memcpy(&v, &x, sizeof v);
  return v;
}
// a where mask (all ones), else b: compare results of the vector extensions are such masks
inline v4 select(v4i mask, v4 a, v4 b) { return bits_to_float((mask & float_to_bits(a)) | (~mask & float_to_bits(b))); }

// e^x, to within ~2 ulp over [-87, 88] (beyond: clamped there, e^88.3 ~ 2.1e38; no inf, no NaN for finite x).
// Cody & Waite's range reduction x = n ln2 + r, |r| <= ln2 / 2, with ln2 in two parts so that n ln2 is exact;
// e^r by a degree-7 polynomial, e^x = 2^n e^r with 2^n built in the exponent bits. The polynomial is the
// minimax fit of Cephes' expf (S. L. Moshier, "Methods and Programs for Mathematical Functions", 1989).
inline v4 exp(v4 x) {
  const v4 hi = splat(88.3f), lo = splat(-87.3f);
  x = select(x > hi, hi, x);
  x = select(x < lo, lo, x);
  // n = round(x / ln2): adding 1.5 * 2^23 leaves n in the low mantissa bits (round to nearest even)
  const v4 magic = splat(12582912.0f);
  const v4 t = x * splat(1.44269504088896341f) + magic;
  const v4 n = t - magic;
  const v4 r = (x - n * splat(0.693359375f)) - n * splat(-2.12194440e-4f);
  v4 p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  const v4 er = (p * (r * r) + r) + splat(1.0f);
  const v4i k = float_to_bits(t) - float_to_bits(magic);  // n as an integer, -126..127
  return er * bits_to_float((k + 127) << 23);
}

}  // namespace resnorm::simd

// Can Debian's Emscripten 3.1.6 (clang 14) emit a relaxed-SIMD fused multiply-add that Node 20 and
// Chromium 156 run? (issue 24, item 4; checked by bench/peak/run.mjs, never part of the engine.)
// clang 14 knows only the prototype builtin __builtin_wasm_fma_f32x4 (needs -mrelaxed-simd); the
// relaxed-simd proposal as standardised names it f32x4.relaxed_madd (opcode 0xfd 0x105,
// https://github.com/WebAssembly/relaxed-simd/blob/main/proposals/relaxed-simd/Overview.md).
typedef float f32x4 __attribute__((vector_size(16)));

__attribute__((used)) f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return __builtin_wasm_fma_f32x4(a, b, c); }

// What the fused op computes, seen from C: (1, 2, 3) -> 5 is a * b + c (the standard relaxed_madd), 7 would
// be a + b * c.
__attribute__((used)) float madd_lane0(float a, float b, float c) {
  const f32x4 va = {a, a, a, a}, vb = {b, b, b, b}, vc = {c, c, c, c};
  return __builtin_wasm_fma_f32x4(va, vb, vc)[0];
}

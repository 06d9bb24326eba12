// Can Debian's Emscripten 3.1.6 (clang 14) emit a relaxed-SIMD fused multiply-add that Node 20 and
// Chromium 156 run? (issue 24, item 4; checked by bench/peak/run.mjs, never part of the engine.)
// clang 14 knows only the prototype builtin __builtin_wasm_fma_f32x4 (needs -mrelaxed-simd); the
// relaxed-simd proposal as standardised names it f32x4.relaxed_madd (opcode 0xfd 0x105,
// https://github.com/WebAssembly/relaxed-simd/blob/main/proposals/relaxed-simd/Overview.md).
typedef float f32x4 __attribute__((vector_size(16)));

__attribute__((used)) f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return __builtin_wasm_fma_f32x4(a, b, c); }

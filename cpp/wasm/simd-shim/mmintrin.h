/* Deliberately empty stand-in for the x86 MMX header: Emscripten's SSE-to-wasm-SIMD headers pull it in,
   and clang's real one refuses non-x86 targets. Eigen never uses MMX, so nothing is lost. */

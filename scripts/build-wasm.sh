#!/usr/bin/env bash
# Builds the WebAssembly engine with the `wasm` CMake preset: web/public/wasm/resnorm.{mjs,wasm} (gitignored,
# always rebuilt from here), the wasm Catch2 runner and the GEMM benchmark. --nosimd adds the no-SIMD build.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's emcc needs Node to find its acorn: https://packages.debian.org/emscripten (see TOOLCHAIN.md)
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"

cmake --preset wasm
cmake --build --preset wasm
if [[ "${1:-}" == "--nosimd" ]]; then
  cmake --preset wasm-nosimd
  cmake --build --preset wasm-nosimd
fi

wasm=web/public/wasm/resnorm.wasm glue=web/public/wasm/resnorm.mjs
gz_wasm=$(gzip -9c "$wasm" | wc -c) gz_glue=$(gzip -9c "$glue" | wc -c)
simd=$(wasm-objdump -d "$wasm" 2>/dev/null | grep -c 'f32x4' || true)
echo "wasm engine: $wasm $(stat -c %s "$wasm") B, $glue $(stat -c %s "$glue") B;" \
     "gzipped $((gz_wasm + gz_glue)) B (budget 204800); f32x4 instructions: $simd"
# 200 KB since issue 11 added the cnn ops (conv2d, pooling, batchnorm, the ResNet walk); 150 KB before.
# Measured: 152,715 B gzipped without the cnn, 168,555 B with it and the playground's probes (inspect.cpp).
if (( gz_wasm + gz_glue > 204800 )); then echo "over the 200 KB gzipped size budget" >&2; exit 1; fi
if (( simd < 100 )); then echo "Eigen did not vectorize (expected hundreds of f32x4 instructions)" >&2; exit 1; fi

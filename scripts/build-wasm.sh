#!/usr/bin/env bash
# Builds the WebAssembly engine with the `wasm` CMake preset: web/public/wasm/resnorm.{mjs,wasm} (gitignored,
# always rebuilt from here), the wasm Catch2 runner and the GEMM benchmark. --nosimd adds the no-SIMD build.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's emcc needs Node to find its acorn: https://packages.debian.org/emscripten (see TOOLCHAIN.md)
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"

cmake --preset wasm
cmake --build --preset wasm
# The pthreads variant (issue 13): resnorm-mt.{mjs,wasm,worker.js}, loaded only by cross-origin isolated pages.
cmake --preset wasm-mt
cmake --build --preset wasm-mt --target resnorm_wasm  # the engine only (no tests, no GEMM bench)
if [[ "${1:-}" == "--nosimd" ]]; then
  cmake --preset wasm-nosimd
  cmake --build --preset wasm-nosimd
fi

# 200 KB per variant since issue 11 added the cnn ops (conv2d, pooling, batchnorm, the ResNet walk); 150 KB
# before. Measured: 152,715 B gzipped without the cnn, 168,555 B with it and the playground's probes
# (inspect.cpp); issue 13: 180,552 B single-thread, and the pthreads variant with its worker.js below.
for name in resnorm resnorm-mt; do
  wasm=web/public/wasm/$name.wasm glue=web/public/wasm/$name.mjs worker=web/public/wasm/$name.worker.js
  gz=$(( $(gzip -9c "$wasm" | wc -c) + $(gzip -9c "$glue" | wc -c) ))
  [[ -f "$worker" ]] && gz=$(( gz + $(gzip -9c "$worker" | wc -c) ))
  simd=$(wasm-objdump -d "$wasm" 2>/dev/null | grep -c 'f32x4' || true)
  echo "wasm engine $name: $wasm $(stat -c %s "$wasm") B, $glue $(stat -c %s "$glue") B;" \
       "gzipped $gz B with its glue$([[ -f "$worker" ]] && echo ' and worker.js') (budget 204800); f32x4 instructions: $simd"
  if (( gz > 204800 )); then echo "$name is over the 200 KB gzipped size budget" >&2; exit 1; fi
  if (( simd < 100 )); then echo "$name: Eigen did not vectorize (expected hundreds of f32x4 instructions)" >&2; exit 1; fi
done

#!/usr/bin/env bash
# `npm test`: sets up what is missing, then builds and runs every test suite of the project:
# the native Catch2 suite (including the PyTorch parity tests), the same suite compiled to
# WebAssembly under Node, the JavaScript engine tests, and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n=== %s\n' "$*"; }

step "native build"
cmake --preset native -G Ninja >/dev/null
cmake --build --preset native
step "native tests (Catch2 via ctest)"
ctest --test-dir build/native --output-on-failure

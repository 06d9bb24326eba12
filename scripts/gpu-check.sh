#!/usr/bin/env bash
# CI compile-check of the CUDA build (needs nvcc, not a GPU): configure and build the `cuda` preset
# (CUDA backend, resnorm_cuda_tests, kernel benchmarks, the CLI with --backend cuda), then run its
# CUDA test entry plus `backend` (the executor's logic on host ops, cpp/core/exec) which must pass; `cuda` (the [cuda]
# tests) must pass on a GPU machine and is reported SKIPPED, with the "no CUDA device" message,
# elsewhere. ALL=1 runs the whole ctest suite of that build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
nvcc=/usr/local/cuda/bin/nvcc
[ -x "$nvcc" ] || { echo "gpu-check: no nvcc at $nvcc" >&2; exit 1; }
t0=$SECONDS
cmake --preset cuda > /dev/null
cmake --build --preset cuda
echo "gpu-check: cuda build ok in $((SECONDS - t0)) s"
set +e
if [ "${ALL:-0}" = 1 ]; then
  out="$(ctest --preset cuda 2>&1)"
else
  out="$(ctest --preset cuda -R '^(cuda|backend)$' 2>&1)"
fi
rc=$?
set -e
printf '%s\n' "$out"
[ $rc -eq 0 ] || exit $rc
# Say plainly whether the [cuda] tests ran: exit code 77 is "no device", reported as skipped, never a pass.
if printf '%s\n' "$out" | grep -q 'cuda (Skipped)'; then
  echo "gpu-check: $(build/cuda/resnorm_cuda_tests "[cuda]" 2>&1 | head -1) -- compile-checked only"
else
  echo "gpu-check: the [cuda] tests ran on a GPU and passed"
fi

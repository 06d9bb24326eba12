#!/usr/bin/env bash
# Builds (if needed) and runs every kernel benchmark of this folder; each validates its versions against
# the CPU reference before timing them. Usage: cpp/cuda/kernels-bench/run.sh [OUT_DIR] [extra args, e.g. --N 65536 --C 768]
# Binaries come from the cuda preset (build/cuda/kernels-bench/kb_*); without a build folder they are
# compiled here directly with nvcc. Writes OUT_DIR/<op>.jsonl (one line per version) and <op>.txt (the table).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:-${OUT:-$root/bench/results/cuda}/kernels}"
shift || true
mkdir -p "$out"
bindir="${KB_BIN_DIR:-$root/build/cuda/kernels-bench}"
nvcc="${NVCC:-/usr/local/cuda/bin/nvcc}"
arch="${KB_ARCH:-sm_90}"
status=0
for src in "$here"/layernorm_forward.cu "$here"/layernorm_backward.cu "$here"/residual_layernorm_forward.cu "$here"/rmsnorm_forward.cu; do
  op="$(basename "$src" .cu)"
  bin="$bindir/kb_$op"
  if [ ! -x "$bin" ]; then
    mkdir -p "$root/build/kernels-bench"
    bin="$root/build/kernels-bench/kb_$op"
    "$nvcc" -std=c++17 -O3 -lineinfo -arch="$arch" -I"$here" -I"$root/cpp/cuda/ops" -I"$root/cpp/cuda" -I"$root/cpp/core" \
      "$src" "$root/cpp/cuda/ops/common.cu" -o "$bin" -lcublas -lcublasLt || { status=1; continue; }
  fi
  echo "== $op"
  # JSON lines to <op>.jsonl, the readable table to the terminal and <op>.txt
  "$bin" --json "$@" > "$out/$op.jsonl" 2> >(tee "$out/$op.txt" >&2) || status=1
done
exit $status

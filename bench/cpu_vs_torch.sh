#!/usr/bin/env bash
# Speed part of issue 2: our native core (`resnorm bench`) beside PyTorch CPU on mlp-residual-deep and
# gpt-tiny, one thread each, in one run. Usage: bench/cpu_vs_torch.sh [path/to/resnorm] [extra args for torch_cpu_bench.py]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build/native/resnorm"
if [[ $# -gt 0 && "$1" != -* ]]; then
  bin="$1"
  shift
fi

# Single-threaded BLAS for torch (torch.set_num_threads does not limit OpenBLAS); machine-level OpenBLAS
# tuning variables are dropped for this command only (docs/benchmarks.md, "PyTorch on the CPU").
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "cpu_vs_torch: /usr/bin/python3 cannot import torch (apt-get install python3-torch libopenblas0-pthread)" >&2
  exit 1
fi
exec /usr/bin/python3 "$root/bench/torch_cpu_bench.py" --resnorm "$bin" "$@"

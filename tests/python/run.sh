#!/usr/bin/env bash
# The PyTorch twin's tests (python/resnorm_torch): twin vs core, 2-process gloo DDP vs 1 process, SyncBatchNorm,
# checkpoint round trips both ways, refusals (issue 21: the twin refuses what the core refuses, saves on
# SIGINT, exits 1 on a full disk), and the loader's property tests (python3-hypothesis). Needs
# build/native/resnorm and Debian's torch (/usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
/usr/bin/python3 tests/python/test_twin.py
/usr/bin/python3 tests/python/test_refusals.py
/usr/bin/python3 tests/python/test_strict.py

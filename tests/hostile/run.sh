#!/usr/bin/env bash
# Issue 21's one verdict: the hostile corpus (make_corpus.py, 280 configs and checkpoints) through the core
# (build/native/resnorm), the PyTorch twin and the wasm engine (web/public/wasm/resnorm.wasm); fails unless
# all three accept or refuse each file alike, every refusal one line. Usage: tests/hostile/run.sh [resnorm]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/native/resnorm}
[ -x "$BIN" ] || { echo "hostile: $BIN is missing: build the native preset first" >&2; exit 1; }
[ -f web/public/wasm/resnorm.wasm ] || { echo "hostile: web/public/wasm/resnorm.wasm is missing: npm run build:wasm" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/hostile/run.py "$BIN" "$WORK"

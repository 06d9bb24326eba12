#!/usr/bin/env bash
# `npm test`: sets up what is missing, then builds and runs every test suite of the project:
#   1. native Catch2 suite via ctest (ops, blocks, model, optimiser, data, config, checkpoints,
#      determinism, learning, experiments, PyTorch parity, thread-count independence) and the CLI test; the PyTorch twin's tests
#      (tests/python); the fast groups again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   2. the same Catch2 suite compiled to WebAssembly, run under Node;
#   3. the JavaScript engine tests (wasm API, worker protocol, wasm/native parity) in Node;
#   4. the engine in headless Chromium under a strict CSP, single-thread and pthreads builds (isolated page);
#   5. the playground's unit tests and its end-to-end tests in headless Chromium;
#   6. the CUDA build (compile check; its [cuda] tests run only where a GPU is present and are
#      reported as skipped, never passed, elsewhere).
# Before them, the checks that cannot rot (scripts/test-docs.sh: links and paths, generated benchmark
# tables, the mutant list). At the end (or at a failure) a table of every stage's duration.
# The inner loop is `npm run test:fast` (scripts/test-fast.sh); docs/testing.md describes both.
set -euo pipefail
cd "$(dirname "$0")/.."

# Stage timing: step() closes the previous stage and opens the next; the table prints at exit, pass or fail.
STAGE_NAMES=() STAGE_SECS=() STAGE_T0=$SECONDS SUITE_T0=$SECONDS
step() {
  [ "${#STAGE_NAMES[@]}" = 0 ] || STAGE_SECS+=($((SECONDS - STAGE_T0)))
  STAGE_NAMES+=("$*") STAGE_T0=$SECONDS
  printf '\n=== %s\n' "$*"
}
stage_table() {
  local rc=$? i n=${#STAGE_NAMES[@]}
  [ "$n" = 0 ] && return
  STAGE_SECS+=($((SECONDS - STAGE_T0)))
  printf '\nstage durations (%s, load average %s):\n' "$([ $rc = 0 ] && echo passed || echo "FAILED in the last stage listed")" \
    "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  for i in "${!STAGE_NAMES[@]}"; do
    printf '  %6d s  %2d:%02d  %s\n' "${STAGE_SECS[$i]}" $((STAGE_SECS[i] / 60)) $((STAGE_SECS[i] % 60)) "${STAGE_NAMES[$i]}"
  done
  printf '  %6d s  %2d:%02d  total\n' $((SECONDS - SUITE_T0)) $(((SECONDS - SUITE_T0) / 60)) $(((SECONDS - SUITE_T0) % 60))
}
trap stage_table EXIT

step "setup: installs what is missing (scripts/setup.sh)"
bash scripts/setup.sh

step "0/6 checks that cannot rot: links and paths, generated benchmark tables, the mutant list"
bash scripts/test-docs.sh

step "1/6 native build and tests"
cmake --preset native -G Ninja >/dev/null
cmake --build --preset native
ctest --test-dir build/native --output-on-failure -j2

step "1/6 (cont.) the PyTorch twin: vs the core, 2-process gloo DDP vs 1 process, checkpoint round trips"
bash tests/python/run.sh

step "1/6 (cont.) the Catch2 suite under AddressSanitizer + UndefinedBehaviorSanitizer (debug preset, -O1)"
# The fast groups; training to convergence and PyTorch parity are covered by the optimised build above.
cmake --preset debug -DRESNORM_TESTS_SKIP= >/dev/null
cmake --build --preset debug --target resnorm_tests
for group in ops blocks model optim data config checkpoint determinism; do
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    build/debug/resnorm_tests "[$group]" >/dev/null || { echo "sanitizer build: group [$group] failed"; \
    build/debug/resnorm_tests "[$group]" | tail -30; exit 1; }
  echo "sanitizers: [$group] passed"
done

step "1/6 (cont.) fuzzing the config parser and the checkpoint loader (libFuzzer, ASan + UBSan, 60 s each)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"

step "2/6 WebAssembly build and the Catch2 suite under Node"
npm run --silent test:wasm

# Issue 21 (tests/hostile): one verdict for the core, the PyTorch twin and the wasm engine over the
# generated hostile corpus; needs build/native/resnorm and the wasm engine built above.
step "2/6 (cont.) the hostile corpus: core, twin and wasm give one verdict per file"
bash tests/hostile/run.sh build/native/resnorm

step "3/6 engine tests in Node (vitest)"
# native-sse: the bit-exact comparison point of the wasm build (tests/js/engine.native.test.ts, tier 1).
cmake --preset native-sse >/dev/null
cmake --build --preset native-sse --target resnorm
npm run --silent test:js

step "4/6 engine in headless Chromium"
npm run --silent test:browser

step "5/6 playground: unit tests and end-to-end tests in headless Chromium"
npm run --silent test:unit
npm run --silent test:e2e

step "6/6 CUDA build (compile check)"
if [ -x /usr/local/cuda/bin/nvcc ]; then
  bash scripts/gpu-check.sh
else
  echo "SKIPPED: no nvcc at /usr/local/cuda/bin/nvcc, the CUDA build was not compiled"
fi
printf '\nall test suites passed\n'

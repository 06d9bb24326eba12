#!/usr/bin/env bash
# `npm run test:fast`: the inner loop, under 2 minutes on a built tree (docs/testing.md has the measured time).
#   1. the checks that cannot rot (scripts/test-docs.sh: links, generated tables, the mutant list; seconds);
#   2. an incremental native build and the fast Catch2 groups, two at a time: gradients of every op and block,
#      initialisation, optimiser, data, config messages, checkpoints, determinism;
#   3. the playground's unit tests (vitest, tests/web/unit).
# Left to `npm test`: learning and the experiments (minutes), PyTorch parity, threads, the CLI test, the twin,
# sanitizers, fuzzing, WebAssembly, the engine and end-to-end tests in Chromium, the CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
FAST_GROUPS=(ops blocks model optim data config checkpoint determinism)
t0=$SECONDS
[ -f build/native/build.ninja ] || { echo "test:fast: no native build yet; run npm test (or npm run build:native) once first" >&2; exit 2; }

printf '=== test:fast 1/3: links, benchmark tables, mutant list\n'
bash scripts/test-docs.sh
t1=$SECONDS

printf '\n=== test:fast 2/3: native build (incremental) and the fast Catch2 groups: %s\n' "${FAST_GROUPS[*]}"
cmake --build --preset native >/dev/null || cmake --build --preset native
re="^($(IFS='|'; echo "${FAST_GROUPS[*]}"))\$"
ctest --test-dir build/native -R "$re" --output-on-failure -j2
t2=$SECONDS

printf '\n=== test:fast 3/3: playground unit tests\n'
npx vitest run --config tests/web/vitest.config.ts
t3=$SECONDS
printf '\ntest:fast passed in %d s (checks %d s, native %d s, unit %d s; load average %s)\n' $((t3 - t0)) $((t1 - t0)) \
  $((t2 - t1)) $((t3 - t2)) "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

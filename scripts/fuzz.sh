#!/usr/bin/env bash
# Fuzzes the parsers that read strangers' bytes: the config parser (tests/fuzz/fuzz_config.cpp) and the
# checkpoint loader (tests/fuzz/fuzz_checkpoint.cpp) (issue 9), and the points-CSV and text loaders
# (tests/fuzz/fuzz_data.cpp, issue 21; seeds in tests/fuzz/corpus/data), each for FUZZ_SECONDS
# (default 60) under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer. Starts from the
# committed seeds (tests/fuzz/corpus) plus what earlier runs on this machine found (build/fuzz/corpus).
# Any crash, sanitizer report, leak, input over 5 s or over 2 GB fails the run and leaves the input in
# build/fuzz/artifacts (replay it: build/fuzz/fuzz_config build/fuzz/artifacts/crash-...).
# Usage: scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-${FUZZ_SECONDS:-60}}
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (bash scripts/setup.sh installs it)" >&2; exit 1; }
export CCACHE_BASEDIR=$PWD
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
mkdir -p build/fuzz/artifacts
for target in config checkpoint data; do
  work=build/fuzz/corpus/$target
  mkdir -p "$work"
  log=build/fuzz/$target.log
  if ! "build/fuzz/fuzz_$target" -max_total_time="$SECONDS_EACH" -timeout=5 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    echo "fuzz_$target FAILED; the log's end ($log):" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz_$target: $runs inputs in ${SECONDS_EACH} s, no crash, no sanitizer report"
done

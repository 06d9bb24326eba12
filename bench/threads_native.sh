#!/usr/bin/env bash
# Issue 13, goal 2 (native half): `resnorm bench --threads N` on gpt-tiny and mlp-spiral, 1 and N threads
# taking turns in one run (medians and ratio), written to bench/results/threads-native.json with the CPU's
# name and the load average, because on a shared machine the load decides what a second thread can give.
# Usage: bench/threads_native.sh [path/to/resnorm] [N=2] [steps=20]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/build/native/resnorm}" n="${2:-2}" steps="${3:-20}"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
out="$root/bench/results/threads-native.json"
{
  printf '{"cpu":"%s","cores":%s,"load_before":"%s","runs":[\n' "$cpu" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  "$bin" bench --preset gpt-tiny --steps "$steps" --warmup 3 --threads "$n" --json
  printf ','
  "$bin" bench --preset mlp-spiral --steps $((steps * 10)) --warmup 20 --threads "$n" --json
  printf '],"load_after":"%s"}\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"

#!/usr/bin/env bash
# Two native `resnorm` builds side by side (issue 22: "speed within 3% before/after"), on one machine in
# one run. Wall clock: ROUNDS rounds that alternate the builds (base, new, new, base, ...) so load on a
# shared machine falls on both alike; each round is `resnorm bench --json` (median of single steps), and
# the figure is the median over rounds. Instructions: with CALLGRIND=1, valgrind --tool=callgrind counts
# the instructions of Trainer::step (inclusive, per step) for a fixed number of steps: exact, load-free.
# Callgrind cannot decode AVX-512: compare native-sse (or other non-AVX-512) builds there.
#   bash bench/native_ab.sh BASE_RESNORM NEW_RESNORM [preset ...]     (default: mlp-spiral gpt-tiny cnn-digits)
# Env: ROUNDS (5), STEPS (bench steps per round; per preset default below), CALLGRIND (0), CG_STEPS (per preset).
set -euo pipefail
base=${1:?usage: native_ab.sh BASE_RESNORM NEW_RESNORM [preset ...]}
new=${2:?usage: native_ab.sh BASE_RESNORM NEW_RESNORM [preset ...]}
shift 2
for b in "$base" "$new"; do [[ -x "$b" ]] || { echo "native_ab: $b is not an executable resnorm" >&2; exit 1; }; done
presets=("$@")
((${#presets[@]})) || presets=(mlp-spiral gpt-tiny cnn-digits)
rounds=${ROUNDS:-5}
steps_for() { case "$1" in mlp-*) echo "${STEPS:-400}" ;; *) echo "${STEPS:-15}" ;; esac; }
cg_steps_for() { case "$1" in mlp-*) echo "${CG_STEPS:-200}" ;; *) echo "${CG_STEPS:-3}" ;; esac; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "base: $base"
echo "new:  $new"
med() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(statistics.median(v))' "$@"; }
for p in "${presets[@]}"; do
  if [[ "${CALLGRIND:-0}" == 1 ]]; then
    n=$(cg_steps_for "$p")
    for which in base new; do
      bin=$base; [[ $which == new ]] && bin=$new
      valgrind --tool=callgrind --callgrind-out-file="$tmp/$which.cg" "$bin" bench --preset "$p" --steps "$n" --warmup 0 \
        > /dev/null 2> "$tmp/$which.vg" || { tail -5 "$tmp/$which.vg" >&2; exit 1; }
      callgrind_annotate --inclusive=yes "$tmp/$which.cg" > "$tmp/$which.txt" 2> /dev/null
      # (the whole listing first: grep -m1 in a pipe would end callgrind_annotate with SIGPIPE, which pipefail reports)
      awk '/resnorm::Trainer::step\(\)/ {gsub(",", "", $1); print $1; exit}' "$tmp/$which.txt" > "$tmp/$which.ir"
      [[ -s "$tmp/$which.ir" ]] || { echo "native_ab: no Trainer::step() in $which's profile" >&2; exit 1; }
    done
    python3 - "$p" "$n" "$(cat "$tmp/base.ir")" "$(cat "$tmp/new.ir")" <<'EOF'
import sys
p, n, b, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"{p}: instructions per Trainer::step over {n} steps: base {b / n:,.0f}, new {w / n:,.0f}, new/base {w / b:.4f}")
EOF
  else
    s=$(steps_for "$p")
    b=() w=()
    for ((r = 0; r < rounds; r++)); do
      order=(base new); ((r % 2)) && order=(new base)
      for which in "${order[@]}"; do
        bin=$base; [[ $which == new ]] && bin=$new
        ms=$("$bin" bench --preset "$p" --steps "$s" --warmup 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')
        if [[ $which == base ]]; then b+=("$ms"); else w+=("$ms"); fi
      done
    done
    mb=$(med "${b[@]}") mw=$(med "${w[@]}")
    python3 -c "import sys; b,w=float(sys.argv[2]),float(sys.argv[3]); print(f'{sys.argv[1]}: median ms/step over $rounds alternating rounds of $s steps: base {b:.4f}, new {w:.4f}, new/base {w/b:.3f}')" "$p" "$mb" "$mw"
  fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

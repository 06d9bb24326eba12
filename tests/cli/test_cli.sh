#!/usr/bin/env bash
# The resnorm CLI as a user meets it: train -> save -> sample round trip, bench output, and bad
# arguments / files giving a clear message and the documented exit code (2 usage, 1 bad input).
set -uo pipefail
BIN=${1:?usage: test_cli.sh path/to/resnorm}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fails=0
expect() {  # expect CODE PATTERN -- command...
  local code=$1 pattern=$2; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" != "$code" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $* -> exit $rc (wanted $code), output:"; echo "$out" | head -5; fails=$((fails + 1))
  else
    echo "ok: $*"
  fi
}

# A short gpt run saved and sampled from.
cat > "$WORK/gpt.json" <<'JSON'
{"model": {"kind": "gpt", "depth": 1, "width": 16, "heads": 2, "context": 8},
 "optim": {"batch": 2, "steps": 5, "warmup": 1}, "eval": {"every": 0, "batches": 1}}
JSON
expect 0 '"val_loss"' -- "$BIN" train --config "$WORK/gpt.json" --log "$WORK/log.jsonl" --save "$WORK/g.safetensors" --quiet
[ "$(wc -l < "$WORK/log.jsonl")" = 5 ] || { echo "FAIL: log should have 5 lines"; fails=$((fails + 1)); }
grep -q '"block_grad_norm":\[' "$WORK/log.jsonl" || { echo "FAIL: log lacks block_grad_norm"; fails=$((fails + 1)); }
expect 0 '^ROMEO' -- "$BIN" sample --load "$WORK/g.safetensors" --prompt ROMEO --tokens 20 --seed 3
a=$("$BIN" sample --load "$WORK/g.safetensors" --tokens 30 --seed 9); b=$("$BIN" sample --load "$WORK/g.safetensors" --tokens 30 --seed 9)
[ "$a" = "$b" ] || { echo "FAIL: seeded sampling is not reproducible"; fails=$((fails + 1)); }
expect 0 '"median_ms"' -- "$BIN" bench --preset mlp-spiral --steps 3 --warmup 1 --json
expect 0 'mlp-spiral' -- "$BIN" presets
expect 0 '"residual":"identity"' -- "$BIN" show --preset mlp-spiral

# Resume: load continues the step count.
"$BIN" train --preset mlp-spiral --steps 10 --save "$WORK/m.safetensors" --quiet >/dev/null 2>&1
expect 0 '"steps":20' -- "$BIN" train --preset mlp-spiral --steps 20 --load "$WORK/m.safetensors" --quiet

# Bad input.
expect 2 'missing command' -- "$BIN"
expect 2 'unknown command "fly"' -- "$BIN" fly
expect 2 '--steps must be an integer' -- "$BIN" train --steps abc
expect 2 '--steps must be an integer in 1' -- "$BIN" train --steps 0
expect 2 'unknown argument "--step"' -- "$BIN" train --step 5
expect 2 '--preset needs a value' -- "$BIN" train --preset
expect 2 'not both' -- "$BIN" train --preset mlp-spiral --config x.json
expect 2 'needs --load' -- "$BIN" sample
expect 2 '--temperature must be a number' -- "$BIN" sample --load "$WORK/g.safetensors" --temperature hot
expect 1 'unknown preset "nope"' -- "$BIN" train --preset nope
expect 1 'cannot open' -- "$BIN" train --config /nonexistent.json
echo '{"model": {"depth": 0}}' > "$WORK/bad.json"
expect 1 'model.depth = 0 is out of range' -- "$BIN" train --config "$WORK/bad.json"
echo '{"model": ' > "$WORK/broken.json"
expect 1 'invalid JSON' -- "$BIN" train --config "$WORK/broken.json"
head -c 100 "$WORK/g.safetensors" > "$WORK/cut.safetensors"
expect 1 'truncated' -- "$BIN" sample --load "$WORK/cut.safetensors"
expect 1 'mlp checkpoint' -- "$BIN" sample --load "$WORK/m.safetensors"
expect 1 'model.kind' -- "$BIN" train --preset mlp-spiral --load "$WORK/g.safetensors"
expect 1 'prompt: character' -- "$BIN" sample --load "$WORK/g.safetensors" --prompt "€"

# A failed save leaves no partial file behind.
expect 1 'cannot write' -- "$BIN" train --preset mlp-spiral --steps 2 --save /nonexistent-dir/x.safetensors --quiet

[ $fails = 0 ] && echo "cli: all passed" || { echo "cli: $fails failed"; exit 1; }

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

# Threads (issue 13): any count trains to the same bits; bench compares 1 and N side by side.
"$BIN" train --preset gpt-tiny --steps 3 --log "$WORK/t1.jsonl" --quiet >/dev/null 2>&1
"$BIN" train --preset gpt-tiny --steps 3 --log "$WORK/t3.jsonl" --threads 3 --quiet >/dev/null 2>&1
[ -s "$WORK/t1.jsonl" ] && [ "$(grep -o '"loss":[^,]*' "$WORK/t1.jsonl")" = "$(grep -o '"loss":[^,]*' "$WORK/t3.jsonl")" ] ||
  { echo "FAIL: gpt-tiny losses differ between 1 and 3 threads"; fails=$((fails + 1)); }
expect 0 '"threads":2,.*"median_ms_1":.*"ratio":.*"losses_identical":true' -- "$BIN" bench --preset gpt-tiny --steps 2 --warmup 0 --threads 2 --json
expect 0 'median ms/step: 1 thread .*, 2 threads .*, ratio' -- "$BIN" bench --preset mlp-spiral --steps 2 --warmup 0 --threads 2
for bad in 0 -2 abc 9 2.5 ""; do
  expect 2 "--threads must be an integer in 1..8, got \"$bad\"" -- "$BIN" train --preset mlp-spiral --threads "$bad"
done
expect 2 '--threads must be an integer in 1..8, got "99"' -- "$BIN" bench --threads 99

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
# The cnn (issue 11): trains from the built digits asset, saves BatchNorm statistics, resumes, refuses sample.
expect 0 '"accuracy"' -- "$BIN" train --preset cnn-digits --steps 2 --save "$WORK/c.safetensors" --quiet
expect 0 '"accuracy"' -- "$BIN" train --preset cnn-digits --steps 3 --load "$WORK/c.safetensors" --quiet
expect 1 'this is a cnn checkpoint; sampling needs a gpt one' -- "$BIN" sample --load "$WORK/c.safetensors"
expect 1 'cannot open' -- "$BIN" train --preset cnn-digits --steps 1 --data /nonexistent/digits.bin
expect 1 'prompt: character' -- "$BIN" sample --load "$WORK/g.safetensors" --prompt "€"

# A failed save leaves no partial file behind.
expect 1 'cannot write' -- "$BIN" train --preset mlp-spiral --steps 2 --save /nonexistent-dir/x.safetensors --quiet

# ---- Nothing lost, hostile files refused fast (issue 9) ----
# Where results go is checked before training: 10^7 steps would take hours, the refusal comes at once.
expect 1 'cannot write "/nonexistent-dir/x.safetensors' -- timeout 20 "$BIN" train --preset mlp-spiral --steps 10000000 --save /nonexistent-dir/x.safetensors --quiet
expect 1 'cannot write "/nonexistent-dir/run.jsonl' -- timeout 20 "$BIN" train --preset mlp-spiral --steps 10000000 --log /nonexistent-dir/run.jsonl --quiet
mkdir "$WORK/adir"
expect 1 '"[^"]*/adir" is a directory' -- timeout 20 "$BIN" train --preset mlp-spiral --steps 10000000 --save "$WORK/adir" --quiet
expect 1 '"[^"]*/adir" is a directory' -- timeout 20 "$BIN" train --preset mlp-spiral --steps 10000000 --log "$WORK/adir" --quiet
# A write error on the log is an error (exit 1), and the checkpoint is still saved.
expect 1 'writing "/dev/full" failed' -- "$BIN" train --preset mlp-spiral --steps 3 --log /dev/full --save "$WORK/full.safetensors" --quiet
expect 0 '"steps":4' -- "$BIN" train --preset mlp-spiral --steps 4 --load "$WORK/full.safetensors" --quiet
# A directory or a device where a file is expected: a clear message, exit 1 (--load DIR aborted with 134).
expect 1 '"[^"]*/adir" is a directory, not a file' -- "$BIN" train --preset mlp-spiral --load "$WORK/adir"
expect 1 '"[^"]*/adir" is a directory, not a file' -- "$BIN" sample --load "$WORK/adir"
expect 1 '"[^"]*/adir" is a directory, not a file' -- "$BIN" train --config "$WORK/adir"
expect 1 '"[^"]*/adir" is a directory, not a file' -- "$BIN" train --config "$WORK/gpt.json" --data "$WORK/adir"
expect 1 'not a regular file' -- timeout 20 "$BIN" sample --load /dev/zero
expect 1 '"/dev/zero" is not a regular file \(a character device\)' -- timeout 20 "$BIN" train --config /dev/zero
# A huge file is refused from its header, not read whole (a sparse 4 GB file; reading it took ~10 s and 4 GB).
if truncate -s 4G "$WORK/huge.safetensors" 2>/dev/null; then
  expect 1 'header length 0 does not fit a file of 4294967296 bytes' -- timeout 5 "$BIN" sample --load "$WORK/huge.safetensors"
  expect 1 'is over 4194304 bytes' -- timeout 5 "$BIN" train --config "$WORK/huge.safetensors"
  rm -f "$WORK/huge.safetensors"
fi
# A config of 100,000 keys is parsed and refused in well under a second (the quadratic duplicate-key
# check took minutes; the 10 s bound only separates the two).
awk 'BEGIN { printf "{"; for (i = 0; i < 100000; i++) printf "%s\"k%d\":0", (i ? "," : ""), i; printf "}" }' > "$WORK/keys.json"
expect 1 'unknown key "k0"' -- timeout 10 "$BIN" show --config "$WORK/keys.json"
sed 's/}$/,"k5":1}/' "$WORK/keys.json" > "$WORK/dupkeys.json"
expect 1 'duplicate key "k5"' -- timeout 10 "$BIN" show --config "$WORK/dupkeys.json"
# Resuming at or past the run's last step says so (it printed train_loss 0 and accuracy -1, exit 0).
expect 1 'checkpoint is at step 10 and this run ends at step 10 .*nothing to train' -- "$BIN" train --preset mlp-spiral --steps 10 --load "$WORK/m.safetensors" --quiet
expect 1 'checkpoint is at step 10 and this run ends at step 5' -- "$BIN" train --preset mlp-spiral --steps 5 --load "$WORK/m.safetensors" --quiet
# A config that disagrees with the checkpoint where no shape shows it is refused, naming the field.
sed 's/"heads": 2/"heads": 4/' "$WORK/gpt.json" > "$WORK/gpt4.json"
expect 1 'model.heads = 2, this run has 4' -- "$BIN" train --config "$WORK/gpt4.json" --load "$WORK/g.safetensors" --steps 9
# Saving syncs the file before renaming it (where strace is installed to see it).
if command -v strace >/dev/null; then
  strace -f -e trace=fsync,rename,renameat,renameat2 -o "$WORK/trace" "$BIN" train --preset mlp-spiral --steps 2 --save "$WORK/s.safetensors" --quiet >/dev/null 2>&1
  if grep -qE 'fsync' "$WORK/trace" && [ "$(grep -nE 'fsync|rename' "$WORK/trace" | head -1 | grep -c fsync)" = 1 ]; then
    echo "ok: save fsyncs, then renames"
  else
    echo "FAIL: save does not fsync before rename:"; cat "$WORK/trace"; fails=$((fails + 1))
  fi
fi
# A save that fails (here: over an 8 KB file-size limit; the checkpoint is 19 KB) leaves neither the
# file nor a .tmp.
expect 1 'writing ".*limited.safetensors.tmp.[0-9]+.[A-Za-z0-9]{6}" failed' -- bash -c "ulimit -f 8; trap '' XFSZ; exec \"$BIN\" train --preset mlp-spiral --steps 1 --save \"$WORK/limited.safetensors\" --quiet"
ls "$WORK"/limited.safetensors* >/dev/null 2>&1 && { echo "FAIL: a failed save left $(ls "$WORK"/limited.safetensors*)"; fails=$((fails + 1)); }

# Ctrl-C during `train --save`: the checkpoint of the last finished step is saved, the log ends on a
# whole line, exit 130; the checkpoint loads and training goes on from it.
# (Job control on: a script's background jobs would otherwise start with SIGINT ignored.)
set -m
"$BIN" train --config "$WORK/gpt.json" --steps 10000000 --log "$WORK/int.jsonl" --save "$WORK/int.safetensors" --quiet \
  >"$WORK/int.out" 2>&1 &
pid=$!
set +m
for _ in $(seq 200); do [ -f "$WORK/int.jsonl" ] && [ "$(wc -l < "$WORK/int.jsonl")" -ge 3 ] && break; sleep 0.1; done
kill -INT $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { echo "FAIL: still running 10 s after SIGINT"; kill -KILL $pid; }
wait $pid; rc=$?
last=$(tail -n 1 "$WORK/int.jsonl")
step=$(sed -n 's/^{"step":\([0-9]*\),.*}$/\1/p' <<<"$last")
if [ "$rc" = 130 ] && [ -n "$step" ] && [ "$(tail -c 1 "$WORK/int.jsonl" | od -An -c | tr -d ' ')" = '\n' ] &&
   grep -q "interrupted (SIGINT) after step $step" "$WORK/int.out" && grep -q "saved .*int.safetensors (step $step)" "$WORK/int.out" &&
   [ -z "$(ls "$WORK" | grep '^int.safetensors.tmp')" ]; then
  echo "ok: SIGINT saved step $step"
else
  echo "FAIL: SIGINT -> exit $rc, last log line '${last:0:80}', output:"; cat "$WORK/int.out"; fails=$((fails + 1))
fi
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/int.jsonl" || { echo "FAIL: the log does not parse"; fails=$((fails + 1)); }
fi
expect 0 '^ROMEO' -- "$BIN" sample --load "$WORK/int.safetensors" --prompt ROMEO --tokens 10
expect 0 "\"steps\":$((step + 2))" -- "$BIN" train --config "$WORK/gpt.json" --load "$WORK/int.safetensors" --steps $((step + 2)) --quiet

# ---- Any UTF-8 text (issue 10): a code-point vocabulary, Chinese included ----
for _ in $(seq 60); do printf '床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n'; done > "$WORK/zh.txt"
expect 0 '"val_loss"' -- "$BIN" train --config "$WORK/gpt.json" --data "$WORK/zh.txt" --save "$WORK/zh.safetensors" --quiet
# The sample is the prompt and 20 characters of the text's vocabulary, printed as UTF-8.
out=$("$BIN" sample --load "$WORK/zh.safetensors" --prompt 明月 --tokens 20 --seed 5 --top-k 4096)
if [ "$(printf '%s' "$out" | iconv -f UTF-8 -t UTF-32LE 2>/dev/null | wc -c)" = $(( (2 + 20) * 4 )) ] &&
   [[ "$out" == 明月* ]] && [ -z "$(printf '%s' "${out#明月}" | tr -d '床前明月光，疑是地上霜。舉頭望低思故鄉\n')" ]; then
  echo "ok: sample prints 20 characters of the Chinese vocabulary as UTF-8"
else
  echo "FAIL: sample of a Chinese checkpoint printed: $out"; fails=$((fails + 1))
fi
expect 1 'prompt: character "x" \(U\+0078\) at position 1 is not in the vocabulary' -- "$BIN" sample --load "$WORK/zh.safetensors" --prompt 明x
expect 2 '--top-k must be an integer in 0\.\.4096' -- "$BIN" sample --load "$WORK/zh.safetensors" --top-k 4097
expect 0 '"steps":7' -- "$BIN" train --config "$WORK/gpt.json" --data "$WORK/zh.txt" --load "$WORK/zh.safetensors" --steps 7 --quiet
expect 1 'its vocabulary \(20 characters\) differs from this run.s text' -- "$BIN" train --config "$WORK/gpt.json" --load "$WORK/zh.safetensors" --steps 9 --quiet
expect 0 '"median_ms"' -- "$BIN" bench --config "$WORK/gpt.json" --data "$WORK/zh.txt" --steps 2 --warmup 1 --json
# Invalid UTF-8 and too many distinct characters: the file, the byte offset, the count and the cap.
{ printf '床前明月光'; printf '\xff'; cat "$WORK/zh.txt"; } > "$WORK/bad-utf8.txt"
expect 1 'bad-utf8.txt: data: the text is not valid UTF-8 at byte 15 ' -- "$BIN" train --config "$WORK/gpt.json" --data "$WORK/bad-utf8.txt"
expect 1 'bad-utf8.txt: data: the text is not valid UTF-8 at byte 15 ' -- "$BIN" bench --config "$WORK/gpt.json" --data "$WORK/bad-utf8.txt"
python3 -c 'import sys; sys.stdout.write("".join(chr(0x4E00 + i) for i in range(5000)) * 2)' > "$WORK/wide.txt"
expect 1 'wide.txt: data: the text has 5000 distinct characters, over the cap of 4096' -- "$BIN" train --config "$WORK/gpt.json" --data "$WORK/wide.txt"
# The built-in Chinese corpus by name; "text" needs --data.
sed 's/"optim"/"data": {"name": "tangpoems"}, "optim"/' "$WORK/gpt.json" > "$WORK/tang.json"
expect 0 '"val_loss"' -- "$BIN" train --config "$WORK/tang.json" --steps 2 --quiet
sed 's/"optim"/"data": {"name": "text"}, "optim"/' "$WORK/gpt.json" > "$WORK/text.json"
expect 1 'data.name = "text" trains on a text you give: add --data TEXT_FILE' -- "$BIN" train --config "$WORK/text.json"
expect 0 '"val_loss"' -- "$BIN" train --config "$WORK/text.json" --data "$WORK/zh.txt" --steps 2 --quiet
# A checkpoint of the byte-vocabulary format (written before the Unicode vocabulary) still samples.
expect 0 '^to be' -- "$BIN" sample --load "$(dirname "$0")/../cpp/data/bytevocab-v1.safetensors" --prompt "to be" --tokens 10

# ---- Your own points (issue 10): an mlp on a CSV of x,y,label ----
cat > "$WORK/pts.json" <<'JSON'
{"model": {"kind": "mlp", "depth": 2, "width": 8}, "data": {"name": "points"}, "optim": {"steps": 5}, "eval": {"every": 5}}
JSON
{ echo "x,y,label"; for i in $(seq 0 39); do echo "0.$((i % 10)),-0.$((i / 10)),$((i % 2))"; done; } > "$WORK/pts.csv"
expect 0 '"accuracy"' -- "$BIN" train --config "$WORK/pts.json" --data "$WORK/pts.csv" --quiet
{ cat "$WORK/pts.csv"; echo "0.5,zero,1"; } > "$WORK/badpts.csv"
expect 1 'badpts.csv: points: line 42: y = "zero" is not a number' -- "$BIN" train --config "$WORK/pts.json" --data "$WORK/badpts.csv"
expect 1 'data.name = "points" trains on points you give: add --data POINTS.csv' -- "$BIN" train --config "$WORK/pts.json"

# ---- Nothing lost, second round (issue 21) ----
source "$(dirname "$0")/hostile_cli.sh"

[ $fails = 0 ] && echo "cli: all passed" || { echo "cli: $fails failed"; exit 1; }

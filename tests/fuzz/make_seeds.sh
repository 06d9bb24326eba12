#!/usr/bin/env bash
# Writes the fuzzers' seed corpus (committed under tests/fuzz/corpus; rerun only when the config or
# checkpoint format changes): every built-in preset and a few edge configs for fuzz_config, and
# checkpoints of the two small models fuzz_checkpoint loads into (their configs are the kMlp and kGpt
# strings there; keep them equal). Usage: tests/fuzz/make_seeds.sh path/to/resnorm
set -euo pipefail
cd "$(dirname "$0")"
CLI=${1:?usage: make_seeds.sh path/to/resnorm}
rm -rf corpus/config corpus/checkpoint && mkdir -p corpus/config corpus/checkpoint  # corpus/data (fuzz_data) is hand-written: kept
for p in $("$CLI" presets | awk '{print $1}'); do cp "../../cpp/presets/$p.json" "corpus/config/$p.json"; done
printf '{}' > corpus/config/empty-object.json
printf '{"model":{"kind":"gpt","depth":1,"width":16,"heads":2,"context":8},"data":{"name":"tinyshakespeare"},"seed":0}' > corpus/config/gpt-small-edges.json
printf '{"model":{"depth":512,"width":4,"residual":"rezero","placement":"sandwich","eps":1e-12},"optim":{"name":"sgd","momentum":0.999999,"clip":0}}' > corpus/config/mlp-edges.json
printf '{"model":{"kind":"mlp","depth":2,"width":8},"data":{"name":"spiral","samples":64},"optim":{"batch":16,"steps":4}}' > /tmp/fuzz-mlp.json
printf '{"model":{"kind":"gpt","depth":1,"width":16,"heads":2,"context":8},"data":{"name":"tinyshakespeare"},"optim":{"batch":2,"steps":4}}' > /tmp/fuzz-gpt.json
"$CLI" train --config /tmp/fuzz-mlp.json --steps 1 --quiet --save corpus/checkpoint/mlp.safetensors >/dev/null
"$CLI" train --config /tmp/fuzz-gpt.json --steps 1 --quiet --save corpus/checkpoint/gpt.safetensors >/dev/null
ls -l corpus/*

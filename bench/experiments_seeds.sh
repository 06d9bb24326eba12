#!/usr/bin/env bash
# The five one-click experiments (web/src/experiments.ts) over several seeds, with the native CLI, to set
# the thresholds of tests/cpp/test_experiments.cpp and the ranges the README states. Every run is the
# experiment's preset (resnorm show --preset NAME) with the experiment's fields changed and only the seed
# varied. Runs are sequential (one training process at a time); a config shared by two experiments
# (mlp-plain-deep, mlp-residual-deep) is trained once per seed and reported under both.
#
# Usage: bench/experiments_seeds.sh [path/to/resnorm] [--seeds "1337 1 2 3 4"] [--experiments "ID ..."]
#                                   [--out FILE] [--resume]
#   default binary build/native/resnorm; default output bench/results/experiments_seeds.json; --experiments
#   keeps only those experiment ids (default: all five);
#   per-run logs and summaries go to build/experiments_seeds/ (--resume reuses the summaries found there).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build/native/resnorm"
seeds="1337 1 2 3 4"
out="$root/bench/results/experiments_seeds.json"
resume=0
only=""
if [[ $# -gt 0 && "$1" != -* ]]; then
  bin="$1"
  shift
fi
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --experiments) only="$2"; shift 2 ;;
    --resume) resume=1; shift ;;
    *) echo "experiments_seeds: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "experiments_seeds: no resnorm binary at $bin (npm run build:native)" >&2; exit 1; }
py=/usr/bin/python3
[[ -x "$py" ]] || py=python3
work="$root/build/experiments_seeds"
mkdir -p "$work" "$(dirname "$out")"

exec "$py" - "$root" "$bin" "$work" "$out" "$resume" "$only" $seeds <<'PY'
import json, os, platform, subprocess, sys, time

root, bin_, work, out, resume, only = sys.argv[1:5] + [sys.argv[5] == "1", sys.argv[6].split()]
seeds = [int(s) for s in sys.argv[7:]]

# Mirror of web/src/experiments.ts: (experiment id, [(run label, preset, {dotted field: value})]).
EXPERIMENTS = [
    ("plain-vs-residual", [("plain", "mlp-plain-deep", {}), ("residual", "mlp-residual-deep", {})]),
    ("postln-vs-preln", [("postln", "gpt-postln-nowarmup", {}), ("preln", "gpt-preln-nowarmup", {})]),
    ("rezero", [("rezero", "mlp-rezero-deep", {}),
                ("identity-nonorm", "mlp-rezero-deep", {"model.residual": "identity"}),
                ("plain", "mlp-plain-deep", {})]),
    ("deepnorm", [("deepnorm", "mlp-deepnorm-deep", {}), ("postln", "mlp-postln-deep", {})]),
    ("rmsnorm", [("layernorm", "mlp-residual-deep", {}), ("rmsnorm", "mlp-residual-deep", {"model.norm": "rmsnorm"})]),
]

def cpu_info():
    model, flags = None, None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k == "model name" and model is None:
                    model = v.strip()
                elif k == "flags" and flags is None:
                    flags = set(v.split())
    except OSError:
        pass
    model, flags = model or platform.processor() or "unknown", flags or set()
    return {"model": model, "cores": os.cpu_count(), "avx2": "avx2" in flags, "fma": "fma" in flags,
            "avx512": any(f.startswith("avx512") for f in flags),
            "avx512_flags": sorted(f for f in flags if f.startswith("avx512"))}

def config_for(preset, changes, seed):
    cfg = json.loads(subprocess.run([bin_, "show", "--preset", preset], check=True, capture_output=True,
                                    text=True).stdout)
    for path, value in changes.items():
        node = cfg
        *head, last = path.split(".")
        for k in head:
            node = node[k]
        if last not in node:
            sys.exit(f"experiments_seeds: {preset} has no field {path}")
        node[last] = value
    cfg["seed"] = seed
    return cfg

def train(key, cfg):
    """Trains one run (or, with --resume, reuses its saved CLI outcome) and derives its figures from the log."""
    summary_path = os.path.join(work, key + ".json")
    cfg_path, log_path = os.path.join(work, key + ".config.json"), os.path.join(work, key + ".jsonl")
    if resume and os.path.exists(summary_path) and os.path.exists(log_path):
        with open(summary_path) as f:
            r = json.load(f)
    else:
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        t0 = time.monotonic()
        p = subprocess.run([bin_, "train", "--config", cfg_path, "--log", log_path, "--quiet"], capture_output=True,
                           text=True)
        r = {"exit": p.returncode, "seconds": round(time.monotonic() - t0, 2)}
        if p.returncode == 0:
            s = json.loads(p.stdout.strip().splitlines()[-1])  # the stdout summary (same numbers as the last log line)
            r["val_loss"], r["train_loss"] = s["val_loss"], s["train_loss"]
            if "accuracy" in s:
                r["accuracy"], r["train_accuracy"] = s["accuracy"], s["train_accuracy"]
        else:
            r["stderr_tail"] = p.stderr[-400:]
        with open(summary_path, "w") as f:
            json.dump(r, f)
    with open(log_path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    last = lines[-1] if lines else {}
    r = {k: v for k, v in r.items() if k in ("exit", "seconds", "val_loss", "train_loss", "accuracy",
                                              "train_accuracy", "stderr_tail")}
    r.setdefault("val_loss", last.get("val_loss"))
    r.setdefault("train_loss", last.get("train_loss"))
    r["steps"] = last.get("step", 0)
    r["diverged_steps"] = sum(1 for l in lines if l.get("diverged"))
    r["val_loss_curve"] = [[l["step"], l["val_loss"]] for l in lines if "val_loss" in l]
    # The panels in one number each. Gradient heatmap: the first block's gradient norm over the last block's,
    # at step 1, at the last step, and the median over the last 100 steps (one step's ratio jumps by orders of
    # magnitude). Residual-stream RMS: the last block's over the first block's, at step 1 and the last step.
    ratios = [l["block_grad_norm"][0] / l["block_grad_norm"][-1] for l in lines
              if l.get("block_grad_norm") and l["block_grad_norm"][-1] > 0]
    if ratios:
        tail = sorted(ratios[-100:])
        r["grad_first_over_last_median_last100"] = (tail[(len(tail) - 1) // 2] + tail[len(tail) // 2]) / 2
    for tag, l in (("step1", lines[0] if lines else {}), ("final", last)):
        g, a = l.get("block_grad_norm") or [], l.get("block_act_rms") or []
        if g and g[-1] > 0:
            r["grad_first_over_last_" + tag] = g[0] / g[-1]
        if a and a[0] > 0:
            r["rms_last_over_first_" + tag] = a[-1] / a[0]
    return r

if only:
    unknown = set(only) - {e for e, _ in EXPERIMENTS}
    if unknown:
        sys.exit(f"experiments_seeds: unknown experiment {sorted(unknown)}")
    EXPERIMENTS = [(e, runs) for e, runs in EXPERIMENTS if e in only]
cpu = cpu_info()
print(f"experiments_seeds: {cpu['model']}, avx2 {cpu['avx2']}, avx512 {cpu['avx512']}; seeds {seeds}", file=sys.stderr)
cache, result = {}, {"experiments": {}}
for seed in seeds:
    for exp, runs in EXPERIMENTS:
        for label, preset, changes in runs:
            key = preset + "".join(f"+{k}={v}" for k, v in sorted(changes.items())) + f"@{seed}"
            if key not in cache:
                cache[key] = train(key.replace("@", "-s"), config_for(preset, changes, seed))
                r = cache[key]
                acc = f", test acc {r['accuracy']:.3f}" if "accuracy" in r else ""
                print(f"  seed {seed:5d} {key.split('@')[0]:40s} val {r['val_loss']:.4f}{acc} ({r['seconds']} s)",
                      file=sys.stderr)
            run = result["experiments"].setdefault(exp, {}).setdefault(
                label, {"preset": preset, "set": changes, "seeds": {}})
            run["seeds"][str(seed)] = cache[key]

# min..max over seeds per run, the figures the README and the test thresholds quote
for exp, runs in result["experiments"].items():
    for label, run in runs.items():
        for metric in ("val_loss", "accuracy"):
            vals = [s[metric] for s in run["seeds"].values() if s.get(metric) is not None]
            if vals:
                run[metric + "_range"] = [min(vals), max(vals)]
        if exp == "rmsnorm" and label == "rmsnorm":
            ln = runs["layernorm"]["seeds"]
            d = [s["val_loss"] - ln[k]["val_loss"] for k, s in run["seeds"].items()]
            run["val_loss_minus_layernorm_range"] = [min(d), max(d)]

try:
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
except (OSError, subprocess.CalledProcessError):
    commit = None
result = {"cpu": cpu, "binary": os.path.relpath(os.path.abspath(bin_), root), "commit": commit,
          "seeds": seeds, "date": time.strftime("%Y-%m-%d"),
          # wall-clock seconds of the training runs (each distinct run once), as measured when it was trained
          "train_seconds": round(sum(r["seconds"] for r in cache.values()), 1),
          **result}
with open(out + ".tmp", "w") as f:
    json.dump(result, f, indent=1)
    f.write("\n")
os.replace(out + ".tmp", out)
print(f"wrote {out}", file=sys.stderr)
for exp, runs in result["experiments"].items():
    for label, run in runs.items():
        v = run.get("val_loss_range")
        a = run.get("accuracy_range")
        print(f"{exp:18s} {label:16s} val_loss {v[0]:.3f}..{v[1]:.3f}" +
              (f"  test acc {a[0]:.3f}..{a[1]:.3f}" if a else "") +
              (f"  (minus layernorm {run['val_loss_minus_layernorm_range'][0]:+.3f}.."
               f"{run['val_loss_minus_layernorm_range'][1]:+.3f})" if "val_loss_minus_layernorm_range" in run else ""))
PY

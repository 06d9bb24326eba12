# Issue 11's degradation figures: the six presets cnn-{plain,residual}-{8,20,32} trained natively with the
# CLI, one at a time, and the mean training loss of each run's last 50 steps beside the PyTorch
# reference table (PyTorch 1.13 on CPU, BatchNorm, widths 16/32/64, 14x14 digits, AdamW 3e-3, batch 64,
# 500 steps). Writes bench/results/degradation.json and prints a markdown table.
#
# Usage: /usr/bin/python3 bench/degradation.py [--resnorm BIN] [--seeds "1337 ..."] [--out FILE] [--resume]
#   per-run logs go to build/degradation/ (--resume reuses the logs of finished runs found there).
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPTHS = {8: 1, 20: 3, 32: 5}  # layers = 6 * depth + 2 (He et al. 2016, CIFAR ResNets)
# issue 11's reference run: mean training loss of the last 50 of 500 steps, PyTorch 1.13 CPU
TORCH_REFERENCE = {"plain": {8: 0.058, 20: 0.119, 32: 0.274}, "residual": {8: 0.033, 20: 0.066, 32: 0.081}}
TAIL = 50


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resnorm", default=os.path.join(ROOT, "build", "native", "resnorm"))
    ap.add_argument("--seeds", default="1337")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "degradation.json"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "degradation"))
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--only", default="", help="train only these presets (e.g. to run two at once); summarises all found")
    ap.add_argument("--no-train", action="store_true", help="summarise the finished runs in --work, train nothing")
    a = ap.parse_args()
    if not os.access(a.resnorm, os.X_OK):
        sys.exit(f"degradation: no resnorm binary at {a.resnorm} (npm run build:native)")
    seeds = [int(s) for s in a.seeds.split()]
    os.makedirs(a.work, exist_ok=True)
    runs = {}
    # all six for one seed before the next seed, deepest first (a run cut short keeps whole seeds)
    for seed in seeds:
        for layers in (32, 20, 8):
            for kind in ("plain", "residual"):
                preset = f"cnn-{kind}-{layers}"
                cfg = json.loads(subprocess.run([a.resnorm, "show", "--preset", preset], check=True,
                                                capture_output=True, text=True).stdout)
                assert cfg["model"]["depth"] == DEPTHS[layers], preset
                cfg["seed"] = seed
                key = f"{preset}-s{seed}"
                if a.no_train and not os.path.exists(os.path.join(a.work, key + ".done")):
                    continue
                if a.only and preset not in a.only.split():
                    if not os.path.exists(os.path.join(a.work, key + ".done")):
                        continue  # another instance trains it
                log = os.path.join(a.work, key + ".jsonl")
                done = os.path.join(a.work, key + ".done")
                seconds = None
                if not ((a.resume or a.no_train) and os.path.exists(done)):
                    cfg_path = os.path.join(a.work, key + ".config.json")
                    with open(cfg_path, "w") as f:
                        json.dump(cfg, f)
                    t0 = time.monotonic()
                    p = subprocess.run([a.resnorm, "train", "--config", cfg_path, "--log", log, "--quiet"],
                                       capture_output=True, text=True)
                    if p.returncode != 0:
                        sys.exit(f"degradation: {key} failed ({p.returncode}): {p.stderr[-400:]}")
                    seconds = round(time.monotonic() - t0, 1)
                    with open(done, "w") as f:
                        f.write(str(seconds))
                else:
                    with open(done) as f:
                        seconds = float(f.read())
                with open(log) as f:
                    lines = [json.loads(l) for l in f if l.strip()]
                losses = [l["loss"] for l in lines if "loss" in l]
                last = lines[-1]
                r = {"seconds": seconds, "steps": len(losses), "diverged_steps": sum(1 for l in lines if l.get("diverged")),
                     "mean_loss_last50": statistics.fmean(losses[-TAIL:]),
                     "val_loss": last.get("val_loss"), "accuracy": last.get("accuracy"),
                     "ms_per_step_median": statistics.median(l["ms"] for l in lines if "ms" in l)}
                runs.setdefault(kind, {}).setdefault(str(layers), {})[str(seed)] = r
                print(f"  {key:24s} last-50 loss {r['mean_loss_last50']:.4f}  val {r['val_loss']:.4f}  "
                      f"acc {r['accuracy']:.3f}  ({seconds} s)", file=sys.stderr)
    if a.only:
        return  # the instance that trains the rest summarises
    table = {}
    for kind, by_layers in runs.items():
        for layers, by_seed in by_layers.items():
            vals = [r["mean_loss_last50"] for r in by_seed.values()]
            table.setdefault(kind, {})[layers] = {"ours_median": statistics.median(vals), "ours_min": min(vals),
                                                   "ours_max": max(vals),
                                                   "pytorch_reference": TORCH_REFERENCE[kind][int(layers)]}
    p, rr = table.get("plain", {}), table.get("residual", {})
    fig = lambda t, layers: t[layers]["ours_median"] if layers in t else None  # noqa: E731
    def cmp(a, b, f=lambda x, y: x < y):
        return None if a is None or b is None else f(a, b)
    checks = {"plain32_worse_than_plain8": cmp(fig(p, "8"), fig(p, "32")),
              "residual32_better_than_plain32": cmp(fig(rr, "32"), fig(p, "32")),
              "residual32_under_third_of_plain32": cmp(fig(rr, "32"), fig(p, "32"), lambda x, y: x < y / 3)}
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    load = os.getloadavg()
    out = {"cpu": cpu_name(), "cores": os.cpu_count(), "load_average_at_end": [round(x, 2) for x in load],
           "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "seeds": seeds,
           "metric": f"mean training loss of the last {TAIL} of 500 steps", "table": table, "checks": checks,
           "runs": runs}
    with open(a.out + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)
    print(f"wrote {a.out}", file=sys.stderr)
    print("| | 8 layers | 20 layers | 32 layers |\n|---|---:|---:|---:|")
    for kind in ("plain", "residual"):
        cells = [(f"{table[kind][l]['ours_median']:.3f}" if l in table.get(kind, {}) else "not run") +
                 f" ({TORCH_REFERENCE[kind][int(l)]:.3f})" for l in ("8", "20", "32")]
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print(checks)


if __name__ == "__main__":
    main()

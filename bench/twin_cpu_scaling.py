# gpt-small training throughput of the PyTorch twin with 1 vs 2 CPU processes (gloo DDP, torchrun), run side
# by side, alternating, a few times; writes bench/results/twin_cpu_scaling.json.
"""Usage: OMP_NUM_THREADS=1 /usr/bin/python3 bench/twin_cpu_scaling.py [--runs 3] [--steps 4]

The model and global batch are gpt-small's (6 layers, width 384, context 256, batch 64 = 16,384 tokens per
step); eval.batches is cut to 1 so that the evaluation at the last step does not dominate a short run. Each
run logs every step's wall time ("ms", rank 0, which waits for the gradient all-reduce); the first step is
dropped as warm-up, tokens/s = 16,384 / median step time of the rest, and the figure reported per process
count is the median over runs. One thread per process (OMP_NUM_THREADS=1), so 2 processes use the 2 cores.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "python", "resnorm_torch", "train.py")
TORCHRUN = os.path.join(ROOT, "python", "resnorm_torch", "torchrun.py")


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def one_run(cfg_path, procs, steps, tmp):
    log = os.path.join(tmp, f"p{procs}.jsonl")
    cmd = [sys.executable, TRAIN] if procs == 1 else [sys.executable, TORCHRUN, "--standalone",
                                                     f"--nproc_per_node={procs}", TRAIN]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    subprocess.run(cmd + ["--config", cfg_path, "--steps", str(steps), "--log", log, "--quiet"], check=True,
                   env=env, capture_output=True)
    with open(log) as f:
        ms = [json.loads(line)["ms"] for line in f][1:]
    return 64 * 256 / (statistics.median(ms) / 1000.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="twin-bench-")
    with open(os.path.join(ROOT, "cpp", "presets", "gpt-small.json")) as f:
        cfg = json.load(f)
    cfg["eval"]["batches"] = 1
    cfg_path = os.path.join(tmp, "gpt-small-bench.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    rates = {1: [], 2: []}
    for r in range(a.runs):
        for procs in (1, 2):
            rates[procs].append(one_run(cfg_path, procs, a.steps, tmp))
            print(f"run {r + 1}: {procs} process(es): {rates[procs][-1]:.0f} tokens/s", file=sys.stderr)
    med = {p: statistics.median(v) for p, v in rates.items()}
    out = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu_name(),
           "cores": os.cpu_count(), "note": "load average (1, 5, 15 min) at the end of the run: %.1f, %.1f, %.1f" % os.getloadavg(),
           "preset": "gpt-small (eval.batches 1)", "steps_per_run": a.steps, "runs": a.runs,
           "tokens_per_s": {f"{p}_process": v for p, v in rates.items()},
           "median_tokens_per_s": {f"{p}_process": med[p] for p in med}, "speedup_2_vs_1": med[2] / med[1]}
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "twin_cpu_scaling.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

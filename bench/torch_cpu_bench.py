# Speed part of issue 2: `resnorm bench` beside PyTorch CPU training the same config, single thread, in
# the same run. Writes bench/results/cpu_vs_torch.json and prints a markdown table (run via cpu_vs_torch.sh).
"""Median milliseconds per AdamW train step, after warm-up, for our native core and for PyTorch.

Both sides do the same work per step: draw a random batch, forward, mean cross-entropy, backward,
global gradient-norm clipping, AdamW (weight decay on matrices and embeddings only) with the
preset's learning-rate schedule. Our step also computes its per-step diagnostics (gradient norm per
block, residual-stream RMS, update ratios, attention entropy), PyTorch's does not.

The PyTorch model is python/resnorm_torch/model.py (the parity reference), built from the full config
that `resnorm show --preset NAME` prints. Threads: OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1 are
set before torch loads (torch.set_num_threads does not reach OpenBLAS; see docs/benchmarks.md, "PyTorch on the CPU")
and torch.set_num_threads(1). The BLAS that torch actually loaded is read from /proc/self/maps.
Rounds alternate ours and PyTorch; the reported figure is the median of the rounds' medians (the
best round of each side is recorded too), so a busy neighbour on a shared machine skews both alike.
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"  # before torch (and its BLAS) load

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from resnorm_torch.model import ResNormModel  # noqa: E402

GOALS = {"gpt-tiny": 1.0, "mlp-residual-deep": 2.0}  # issue 2: PyTorch ms / our ms at least this


def learning_rate(o, step):
    """Mirror of cpp/core/optimizer.cpp learning_rate()."""
    if step < o["warmup"]:
        return o["lr"] * (step + 1) / o["warmup"]
    if o["schedule"] == "constant":
        return o["lr"]
    progress = min(1.0, (step - o["warmup"]) / max(1, o["steps"] - o["warmup"]))
    return o["min_lr"] + 0.5 * (o["lr"] - o["min_lr"]) * (1.0 + math.cos(math.pi * progress))


class TorchRun:
    """One PyTorch model + AdamW for a config; step() is one full train step."""

    def __init__(self, cfg, text):
        torch.manual_seed(cfg["seed"])
        self.m, self.o = cfg["model"], cfg["optim"]
        self.gpt = self.m["kind"] == "gpt"
        B = self.o["batch"]
        if self.gpt:
            raw = text.encode("latin-1")
            vocab = sorted(set(raw))
            index = {c: i for i, c in enumerate(vocab)}
            ids = torch.tensor([index[c] for c in raw[: int(len(raw) * 0.9)]], dtype=torch.long)
            self.data, self.classes = ids, len(vocab)
        else:  # the points' values do not change the work; a fixed random set of the preset's size
            n = cfg["data"]["samples"]
            self.x = torch.rand(n, 2) * 2 - 1
            self.y = torch.randint(0, 2, (n,))
            self.classes = 2
        self.model = ResNormModel(self.m, self.classes)
        if self.gpt:  # nanoGPT-like scales, as our init (keeps activations in a normal range)
            for name, p in self.model.named_parameters():
                if p.dim() >= 2:
                    torch.nn.init.normal_(p, 0.0, 0.02)
        named = list(self.model.named_parameters())
        groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": self.o["weight_decay"]},
                  {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
        self.opt = torch.optim.AdamW(groups, lr=self.o["lr"], betas=(self.o["beta1"], self.o["beta2"]),
                                     eps=self.o["eps"])
        self.params = [p for _, p in named]
        self.nparams = sum(p.numel() for p in self.params)
        self.B, self.k = B, 0

    def batch(self):
        if self.gpt:
            T = self.m["context"]
            off = torch.randint(0, len(self.data) - T - 1, (self.B,))
            x = torch.stack([self.data[i:i + T] for i in off.tolist()])
            y = torch.stack([self.data[i + 1:i + 1 + T] for i in off.tolist()])
            return x, y
        idx = torch.randint(0, len(self.y), (self.B,))
        return self.x[idx], self.y[idx]

    def step(self):
        t0 = time.perf_counter()
        for g in self.opt.param_groups:
            g["lr"] = learning_rate(self.o, self.k)
        x, y = self.batch()
        _, loss = self.model(x, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.o["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.o["clip"])
        self.opt.step()
        loss.item()
        self.k += 1
        return (time.perf_counter() - t0) * 1000.0

    def bench(self, steps, warmup):
        for _ in range(warmup):
            self.step()
        return statistics.median(self.step() for _ in range(steps))


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def loaded_blas():
    """The BLAS libraries mapped into this process (after a matmul made torch use one)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower() or "lapack" in os.path.basename(path).lower():
                libs.add(os.path.realpath(path))
    return sorted(libs)


def git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resnorm", default=os.path.join(ROOT, "build", "native", "resnorm"), help="our CLI binary")
    ap.add_argument("--presets", default="mlp-residual-deep,gpt-tiny")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", default="mlp-residual-deep=100,gpt-tiny=20", help="timed steps per preset and round")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--data", default=os.path.join(ROOT, "web", "public", "data", "tinyshakespeare.txt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "cpu_vs_torch.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    if not os.access(args.resnorm, os.X_OK):
        sys.exit(f"no resnorm binary at {args.resnorm}: build it (cmake --preset native && cmake --build build/native) "
                 "or pass its path")
    steps_for = dict(kv.split("=") for kv in args.steps.split(","))
    blas = loaded_blas()
    if not any("openblas" in b for b in blas):
        print(f"warning: torch is not using OpenBLAS (loaded: {blas}); install libopenblas0-pthread", file=sys.stderr)
    with open(args.data, encoding="latin-1") as f:
        text = f.read()

    load_before = os.getloadavg()
    results = []
    for preset in args.presets.split(","):
        steps = int(steps_for.get(preset, 50))
        cfg = json.loads(subprocess.run([args.resnorm, "show", "--preset", preset], capture_output=True, text=True,
                                        check=True).stdout)
        run = TorchRun(cfg, text)
        ours_rounds, torch_rounds, ours_json = [], [], None
        for r in range(args.rounds):
            out = subprocess.run([args.resnorm, "bench", "--preset", preset, "--json", "--steps", str(steps),
                                  "--warmup", str(args.warmup), "--data", args.data],
                                 capture_output=True, text=True, check=True).stdout
            ours_json = json.loads(out.strip().splitlines()[-1])
            ours_rounds.append(ours_json["median_ms"])
            torch_rounds.append(run.bench(steps, args.warmup))
            print(f"  {preset} round {r + 1}: resnorm {ours_rounds[-1]:.3f} ms, torch {torch_rounds[-1]:.3f} ms",
                  file=sys.stderr)
        ours_ms, torch_ms = statistics.median(ours_rounds), statistics.median(torch_rounds)
        m, o = cfg["model"], cfg["optim"]
        results.append({
            "preset": preset,
            "model": {k: m[k] for k in ("kind", "depth", "width", "heads", "context", "residual", "norm", "placement")},
            "batch": o["batch"],
            "rows_per_step": o["batch"] * (m["context"] if m["kind"] == "gpt" else 1),
            "params": ours_json["params"],
            "torch_params": run.nparams,
            "steps_timed": steps,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "resnorm_ms": round(ours_ms, 4),
            "torch_ms": round(torch_ms, 4),
            "speedup": round(torch_ms / ours_ms, 3),
            "resnorm_best_round_ms": round(min(ours_rounds), 4),
            "torch_best_round_ms": round(min(torch_rounds), 4),
            "speedup_best_rounds": round(min(torch_rounds) / min(ours_rounds), 3),
            "goal_speedup": GOALS.get(preset),
            "resnorm_round_ms": [round(v, 4) for v in ours_rounds],
            "torch_round_ms": [round(v, 4) for v in torch_rounds],
            "resnorm_peak_rss_mib": ours_json.get("peak_rss_mib"),
        })
        if run.nparams != ours_json["params"]:
            print(f"warning: {preset}: torch has {run.nparams} parameters, resnorm {ours_json['params']}",
                  file=sys.stderr)

    report = {
        "what": "median ms per AdamW train step after warm-up, single thread; speedup = torch_ms / resnorm_ms",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpu": cpu_name(), "logical_cpus": os.cpu_count(),
                    "load_average_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
        "resnorm": {"binary": os.path.relpath(os.path.realpath(args.resnorm), ROOT), "commit": git("rev-parse", "HEAD"),
                    "working_tree_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
        "torch": {"version": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
                  "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")},
        "results": results,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    blas_names = ", ".join(os.path.join(os.path.basename(os.path.dirname(b)), os.path.basename(b)) for b in blas)
    print(f"CPU: {report['machine']['cpu']} ({report['machine']['logical_cpus']} logical CPUs), single thread; "
          f"PyTorch {torch.__version__} with {blas_names or 'unknown BLAS'}; 1-min load average "
          f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (other work shares the machine)\n")
    print("| preset | batch | params | resnorm ms/step | PyTorch ms/step | speed-up (PyTorch / resnorm) "
          "| best rounds (ours / PyTorch) | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        goal = f">= {r['goal_speedup']:g}x" if r["goal_speedup"] else ""
        met = "" if not r["goal_speedup"] else (" (met)" if r["speedup"] >= r["goal_speedup"] else " (not met)")
        print(f"| {r['preset']} | {r['batch']} | {r['params']} | {r['resnorm_ms']:.3f} | {r['torch_ms']:.3f} | "
              f"{r['speedup']:.2f}x | {r['resnorm_best_round_ms']:.3f} / {r['torch_best_round_ms']:.3f} "
              f"= {r['speedup_best_rounds']:.2f}x | {goal}{met} |")
    print(f"\nwritten: {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()

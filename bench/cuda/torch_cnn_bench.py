#!/usr/bin/env python3
"""PyTorch's train step of the cnn presets (issue 11) on a GPU, beside `resnorm bench --backend cuda`.

The model is the PyTorch twin's ResNet (python/resnorm_torch/cnn.py, which tests/torch_ref/cnn_ref.py
checks against our cnn: same layout, same parameter names), trained with torch.optim.AdamW, the core's learning-rate schedule and clipping, on
batches of the preset's size drawn from the digits asset on the device (the step's cost does not
depend on which digits). Modes: eager fp32 (the like-for-like figure: ours is fp32), eager with TF32
matrix products/convolutions (cudnn.allow_tf32 is on by default in PyTorch 1.13+, so "eager" sets it
off explicitly), and torch.compile where it works. Median ms per step over --steps after --warmup.

    python3 bench/cuda/torch_cnn_bench.py --presets cnn-digits --out OUT/torch_cnn.json [--ours OUT/cnn_ours.jsonl]
    /usr/bin/python3 bench/cuda/torch_cnn_bench.py --device cpu --steps 3 --warmup 1   (smoke test here)
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from resnorm_torch.cnn import ResNet  # noqa: E402  (the twin's cnn, which the parity test checks against ours)
from resnorm_torch.train import learning_rate  # noqa: E402


def preset_config(name):
    with open(os.path.join(ROOT, "cpp", "presets", name + ".json")) as fh:
        cfg = json.load(fh)
    m = {"activation": "relu", "eps": 1e-5, **cfg["model"]}
    o = {"eps": 1e-8, "momentum": 0.9, "schedule": "constant", "min_lr": 1e-4, "clip": 1.0, "warmup": 0, **cfg["optim"]}
    d = {"resolution": 14, **cfg.get("data", {})}
    return {"model": m, "optim": o, "data": d, "seed": cfg.get("seed", 1337)}


def digits(path, resolution, device):
    """The digits asset (scripts/make-digits.mjs layout) as [n, res*res] floats in 0..1 and labels."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:4] != b"RNDG":
        raise SystemExit(f"{path}: not a digits asset")
    count, rows, cols = (int.from_bytes(raw[8 + 4 * i:12 + 4 * i], "little") for i in range(3))
    labels = torch.tensor(list(raw[20:20 + count]), dtype=torch.int64)
    px = torch.frombuffer(bytearray(raw[20 + count:20 + count + count * rows * cols]), dtype=torch.uint8)
    x = px.reshape(count, 1, rows, cols).float() / 255.0
    if resolution != rows:  # 14 x 14: 2 x 2 average pooling, as the core's default
        x = torch.nn.functional.avg_pool2d(x, rows // resolution)
    return x.reshape(count, -1).to(device), labels.to(device)


def step_ms(cfg, x_all, y_all, mode, steps, warmup, device):
    torch.manual_seed(cfg["seed"])
    m, o = cfg["model"], cfg["optim"]
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
        torch.backends.cudnn.allow_tf32 = mode == "tf32"
    model = ResNet(m, 10).to(device)
    named = list(model.named_parameters())
    groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": o["weight_decay"]},
              {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    params = [p for _, p in named]
    fwd = torch.compile(model) if mode == "compile" else model
    B, k = o["batch"], [0]
    model.train()

    def step():
        for g in opt.param_groups:
            g["lr"] = learning_rate(o, k[0])
        idx = torch.randint(0, x_all.shape[0], (B,), device=device)
        _, loss = fwd(x_all[idx], y_all[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if o["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(params, o["clip"])
        opt.step()
        loss.item()  # the host waits for the step, as ours does (one download of the statistics)
        k[0] += 1

    for _ in range(warmup):
        step()
    ms = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="cnn-digits")
    ap.add_argument("--digits", default=os.path.join(ROOT, "web", "public", "data", "digits.bin"))
    ap.add_argument("--out", default="")
    ap.add_argument("--ours", default="", help="JSON lines of `resnorm bench --backend cuda --json` for the table")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--modes", default="eager,tf32,compile")
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch_cnn_bench: this PyTorch has no usable CUDA device")
    torch.set_num_threads(1)
    dev_name = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    ours = {}
    if a.ours and os.path.exists(a.ours):
        for line in open(a.ours):
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                ours[(r["preset"], "tf32" if "TF32" in r.get("device", "") else "fp32")] = r["median_ms"]
    results = []
    for name in a.presets.split(","):
        cfg = preset_config(name)
        x_all, y_all = digits(a.digits, cfg["data"]["resolution"], a.device)
        for mode in a.modes.split(","):
            if mode == "tf32" and a.device != "cuda":
                continue
            try:
                ms = step_ms(cfg, x_all, y_all, mode, a.steps, a.warmup, a.device)
            except Exception as e:  # torch.compile may be unavailable (no Triton): say so, keep the rest
                print(f"{name} {mode}: failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
                continue
            results.append({"preset": name, "mode": mode, "median_ms": ms, "device": dev_name,
                            "torch": torch.__version__})
            print(f"{name} torch {mode}: {ms:.3f} ms/step on {dev_name}", flush=True)
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(results, fh, indent=1)
    print(f"\n| preset | ours fp32 ms | ours TF32 ms | torch eager fp32 ms | torch TF32 ms | torch.compile ms | torch eager / ours |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in a.presets.split(","):
        t = {r["mode"]: r["median_ms"] for r in results if r["preset"] == name}
        o32, otf = ours.get((name, "fp32")), ours.get((name, "tf32"))
        f = lambda v: f"{v:.3f}" if v is not None else "n/a"  # noqa: E731
        ratio = f"{t['eager'] / o32:.2f}" if "eager" in t and o32 else "n/a"
        print(f"| {name} | {f(o32)} | {f(otf)} | {f(t.get('eager'))} | {f(t.get('tf32'))} | {f(t.get('compile'))} | {ratio} |")


if __name__ == "__main__":
    main()

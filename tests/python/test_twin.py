# Tests of the PyTorch twin (python/resnorm_torch) against the core's CLI (build/native/resnorm).
# Plain Python (no pytest on these machines); run by tests/python/run.sh, which npm test calls.
"""Each check prints its measured worst difference beside its tolerance and fails loudly when over it.

Tolerances, and why:
- twin vs core, per-step losses over 20 steps (mlp-spiral, gpt-tiny), relative: 1e-4. Both sides start
  from the same weights (the twin draws the core's init on the core's Rng) and train on the same
  batches with the same AdamW, schedule and clipping, so the only difference is float32 rounding:
  Eigen and PyTorch's BLAS sum the matrix products in different orders (~1e-7 relative per loss), and
  Adam's m/sqrt(v) turns rounding noise in near-zero gradients into full-size steps, which compounds
  over steps. Measured here: 1.0e-7 (both presets). 1e-4 is the parity tests' bound for 20 steps
  (tests/torch_ref/parity.py); a wrong init, batch, schedule or clip moves losses by 1e-3 or more.
- 2 processes (gloo DDP) vs 1 process with the same global batch, per-step loss, gradient norm, block
  gradient norms, residual RMS and attention entropy, relative: 1e-5. The same arithmetic except that
  DDP sums two half-batch gradients (each a mean over its half, then averaged) where one process
  takes one mean over the batch: a different float32 summation order, ~1e-7. Measured: 1.3e-7.
  A missing average (gradients summed) doubles the gradient norm; a wrong split or no all-reduce
  changes the losses from step 2 on by far more than 1e-5.
- the cnn (ResNet on digits) and the mlp with BatchNorm: with SGD the twin follows the core as closely
  as the mlp (1e-4 over 20 steps; measured 6e-5, cnn pre x batchnorm, and 1.1e-5 for mlp batchnorm x
  doubled, evaluations included: with AdamW the mlp's stem bias in front of BatchNorm has a gradient that
  is pure rounding noise, which Adam turns into lr-sized steps, and the running mean after it then
  differs by ~1e-3 between two correct implementations). With AdamW the cnn's losses drift apart faster (measured 5e-5 at step 2, 2.7e-3 at step 20 on
  cnn-digits): Adam's first steps are sign-like, lr x g / |g|, and the conv weights hold many near-zero
  gradients whose float32 rounding (Eigen's im2col GEMM vs PyTorch's conv) decides their sign. Bound:
  step 1 at 1e-5, 20 steps at 1e-2; a wrong init scale, BatchNorm momentum or stride moves step 1 itself.
  2 processes (SyncBatchNorm) vs 1 on the cnn: 1e-5 as above (measured 1.5e-7).
- --bf16 (CPU autocast): the matrix products in bfloat16 (8 bits of mantissa), norms and the loss in
  float32. Per-step losses within 5e-2 of float32 over 20 steps (the BatchNorm mlp under SGD: 10 steps,
  measured 1.9e-2; later its chaotic trajectory moves by up to 1.8e-1), and not equal to them (autocast on).
- data.seed (the data's own seed): twin vs core over 20 steps of mlp-spiral with data.seed = 99,
  relative 1e-4 as above (measured 1.4e-7); a twin that drew the points from `seed` instead: 5.6e-1.
- round trips: a resumed run equals the uninterrupted one. Twin -> twin: bit for bit (same code, same
  process count). Core <-> twin: within the twin-vs-core 1e-4 above.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable
TRAIN = os.path.join(ROOT, "python", "resnorm_torch", "train.py")
TORCHRUN = os.path.join(ROOT, "python", "resnorm_torch", "torchrun.py")
CLI = os.environ.get("RESNORM_BIN") or os.path.join(ROOT, "build", "native", "resnorm")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
TMP = tempfile.mkdtemp(prefix="resnorm-twin-")
FAILS = []


def run(args, expect=0, env=None):
    r = subprocess.run(args, capture_output=True, text=True, env=env or ENV, cwd=ROOT)
    if expect is not None and r.returncode != expect:
        raise SystemExit(f"FAIL: {' '.join(args)} exited {r.returncode}, expected {expect}\n{r.stdout}\n{r.stderr}")
    return r


def twin(*args, procs=1, env=None):
    if procs == 1:
        return run([PY, TRAIN, "--quiet", *args], env=env)
    return run([PY, TORCHRUN, "--standalone", f"--nproc_per_node={procs}", TRAIN, "--quiet", *args], env=env)


def core(*args):
    return run([CLI, *args, "--quiet"])


def log(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def p(name):
    return os.path.join(TMP, name)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def check(label, worst, tol):
    ok = worst <= tol
    print(f"{'ok  ' if ok else 'FAIL'} {label}: worst {worst:.2e} (tolerance {tol:.0e})")
    if not ok:
        FAILS.append(label)


def compare(a, b, keys, label, tol, steps=None):
    if len(a) != len(b) or [r["step"] for r in a] != [r["step"] for r in b]:
        FAILS.append(label)
        print(f"FAIL {label}: steps {[r['step'] for r in a]} vs {[r['step'] for r in b]}")
        return
    worst = 0.0
    for ra, rb in zip(a, b):
        for k in keys:
            if k not in ra and k not in rb:  # evaluations are logged at eval steps only
                continue
            if (k in ra) != (k in rb):
                FAILS.append(label)
                print(f"FAIL {label}: step {ra['step']} has {k} on one side only")
                return
            va, vb = ra[k], rb[k]
            for x, y in zip(va if isinstance(va, list) else [va], vb if isinstance(vb, list) else [vb]):
                worst = max(worst, rel(x, y))
    check(label, worst, tol)


def main():
    t0 = time.time()
    if not os.access(CLI, os.X_OK):
        raise SystemExit(f"FAIL: {CLI} is missing: build the native preset first")

    # 1. twin vs core over 20 steps, same keys in the log
    for preset in ("mlp-spiral", "gpt-tiny"):
        core("train", "--preset", preset, "--steps", "20", "--log", p(f"{preset}.core.jsonl"))
        twin("--preset", preset, "--steps", "20", "--log", p(f"{preset}.twin.jsonl"))
        a, b = log(p(f"{preset}.twin.jsonl")), log(p(f"{preset}.core.jsonl"))
        if [list(r.keys()) for r in a] != [list(r.keys()) for r in b]:
            FAILS.append(f"{preset} log keys")
            print(f"FAIL {preset}: log keys differ: {list(a[-1].keys())} vs {list(b[-1].keys())}")
        compare(a, b, ["loss"], f"{preset}: twin vs core, losses over 20 steps", 1e-4)
        compare(a[-1:], b[-1:], ["val_loss", "train_loss"], f"{preset}: twin vs core, final evaluation", 1e-4)

    # 1b. data.seed (the data's own seed; 0 = the run's): both sides draw the points from it and keep
    # the weights and batches of `seed`, so they agree again, and the run differs from the plain one
    with open(os.path.join(ROOT, "cpp", "presets", "mlp-spiral.json")) as f:
        cfg = json.load(f)
    cfg.setdefault("data", {})["seed"] = 99
    cfg.setdefault("optim", {})["steps"] = 20
    with open(p("dseed.json"), "w") as f:
        json.dump(cfg, f)
    core("train", "--config", p("dseed.json"), "--log", p("dseed.core.jsonl"))
    twin("--config", p("dseed.json"), "--log", p("dseed.twin.jsonl"))
    a, b = log(p("dseed.twin.jsonl")), log(p("dseed.core.jsonl"))
    compare(a, b, ["loss"], "mlp-spiral with data.seed = 99: twin vs core, losses over 20 steps", 1e-4)
    plain = log(p("mlp-spiral.core.jsonl"))
    moved = max(rel(x["loss"], y["loss"]) for x, y in zip(b, plain))
    print(f"{'ok  ' if moved > 1e-3 else 'FAIL'} mlp-spiral: data.seed = 99 trains on other points "
          f"(losses move by up to {moved:.1e} from the run without it; want > 1e-3)")
    if moved <= 1e-3:
        FAILS.append("data.seed changes the points")

    # 2. 2 processes (gloo DDP through torchrun) vs 1 process, same global batch
    twin("--preset", "gpt-tiny", "--steps", "20", "--log", p("ddp2.jsonl"), procs=2)
    one, two = log(p("gpt-tiny.twin.jsonl")), log(p("ddp2.jsonl"))
    compare(two, one, ["loss", "grad_norm", "block_grad_norm", "block_act_rms", "attn_entropy"],
            "gpt-tiny: 2 processes vs 1, losses and diagnostics over 20 steps", 1e-5)
    compare(two[-1:], one[-1:], ["val_loss"], "gpt-tiny: 2 processes vs 1, final validation loss", 1e-5)

    # SyncBatchNorm: 2 processes on halves = 1 process on the batch
    r = run([PY, TORCHRUN, "--standalone", "--nproc_per_node=2", os.path.join(HERE, "syncbn_check.py")])
    worst = float(r.stdout.split("syncbn worst")[1].split()[0])
    check("sync_batchnorm: 2 processes vs 1 after 5 SGD steps", worst, 1e-5)

    # 3. round trips
    # core checkpoint (with moments) at step 10 -> twin trains on to 20 = core's uninterrupted run
    core("train", "--preset", "gpt-tiny", "--steps", "10", "--save", p("core10.safetensors"))
    twin("--preset", "gpt-tiny", "--steps", "20", "--load", p("core10.safetensors"), "--log", p("c2t.jsonl"))
    compare(log(p("c2t.jsonl")), log(p("gpt-tiny.core.jsonl"))[10:], ["loss"],
            "core checkpoint -> twin --load, steps 11..20 vs core's 20", 1e-4)
    # twin checkpoint at 10 -> core train --load to 20 = twin's uninterrupted run; resnorm sample reads it
    twin("--preset", "gpt-tiny", "--steps", "10", "--save", p("twin10.safetensors"))
    core("train", "--preset", "gpt-tiny", "--steps", "20", "--load", p("twin10.safetensors"), "--log", p("t2c.jsonl"))
    compare(log(p("t2c.jsonl")), log(p("gpt-tiny.twin.jsonl"))[10:], ["loss"],
            "twin checkpoint -> resnorm train --load, steps 11..20 vs twin's 20", 1e-4)
    s = run([CLI, "sample", "--load", p("twin10.safetensors"), "--tokens", "50", "--prompt", "ROMEO:"])
    if not s.stdout.startswith("ROMEO:") or len(s.stdout.rstrip("\n")) < 50:
        FAILS.append("resnorm sample of a twin checkpoint")
        print(f"FAIL resnorm sample of a twin checkpoint: {s.stdout!r}")
    else:
        print("ok   resnorm sample reads a twin checkpoint")
    # a checkpoint from a machine larger than the core's cap (here its batch is): resnorm sample reads it
    # (inference holds one sequence), resnorm train --load refuses the run with the core's cap message
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from resnorm_torch.checkpoint import write_checkpoint
    from resnorm_torch.data import read_text
    from resnorm_torch.model import build_model, init_like_core
    from resnorm_torch.train import core_config
    over = p("overcap.json")
    with open(over, "w") as f:
        f.write('{"model": {"kind": "gpt", "depth": 2, "width": 32, "heads": 2, "context": 1024}, '
                '"data": {"name": "tinyshakespeare"}, "optim": {"batch": 4096}}')
    cfg = core_config(config_path=over)
    vocab = "".join(sorted(set(read_text())))
    model = build_model(cfg["model"], len(vocab))
    init_like_core(model, cfg["model"], cfg["seed"])
    write_checkpoint(p("overcap.safetensors"), cfg, vocab, 0, dict(model.named_parameters()))
    s = run([CLI, "sample", "--load", p("overcap.safetensors"), "--tokens", "20"], expect=None)
    t = run([CLI, "train", "--config", over, "--load", p("overcap.safetensors")], expect=None)
    ok = s.returncode == 0 and t.returncode == 1 and "over the cap" in t.stderr
    print(f"{'ok  ' if ok else 'FAIL'} a checkpoint over the core's memory cap: sample reads it, train refuses the run"
          + ("" if ok else f": {s.stderr} / {t.stderr}"))
    if not ok:
        FAILS.append("over-cap checkpoint")
    # twin -> twin, bit for bit; a checkpoint without moments restarts them (and differs)
    twin("--preset", "gpt-tiny", "--steps", "20", "--load", p("twin10.safetensors"), "--log", p("t2t.jsonl"))
    compare(log(p("t2t.jsonl")), log(p("gpt-tiny.twin.jsonl"))[10:], ["loss", "grad_norm", "update_ratio"],
            "twin checkpoint -> twin --load, steps 11..20 vs twin's 20 (bit for bit)", 0.0)
    core("train", "--preset", "mlp-spiral", "--steps", "10", "--save", p("plain10.safetensors"), "--no-moments")
    twin("--preset", "mlp-spiral", "--steps", "20", "--load", p("plain10.safetensors"), "--log", p("plain.jsonl"))
    d = max(rel(a["loss"], b["loss"]) for a, b in zip(log(p("plain.jsonl")), log(p("mlp-spiral.core.jsonl"))[10:]))
    ok = d > 1e-3
    print(f"{'ok  ' if ok else 'FAIL'} a checkpoint without moments loads and restarts them (differs by {d:.1e})")
    if not ok:
        FAILS.append("checkpoint without moments")

    # 4. the cnn and BatchNorm: twin vs core, SyncBatchNorm DDP, checkpoints with running statistics
    cnn_sgd = p("cnn-sgd.json")
    with open(cnn_sgd, "w") as f:
        f.write('{"model": {"kind": "cnn", "depth": 1, "width": 8, "residual": "identity", "norm": "batchnorm", '
                '"placement": "pre"}, "data": {"name": "digits"}, "optim": {"name": "sgd", "lr": 0.05, '
                '"momentum": 0.9, "batch": 32, "steps": 20}, "eval": {"every": 10}}')
    mlp_bn = p("mlp-bn.json")
    with open(mlp_bn, "w") as f:
        f.write('{"model": {"kind": "mlp", "depth": 4, "width": 16, "residual": "doubled", "norm": "batchnorm", '
                '"placement": "pre"}, "data": {"name": "spiral"}, "optim": {"name": "sgd", "lr": 0.05, "momentum": 0.9, '
                '"batch": 32, "steps": 20}, "eval": {"every": 10}}')
    for name, cfg in (("cnn-sgd", cnn_sgd), ("mlp-bn", mlp_bn)):
        core("train", "--config", cfg, "--log", p(f"{name}.core.jsonl"))
        twin("--config", cfg, "--log", p(f"{name}.twin.jsonl"))
        a, b = log(p(f"{name}.twin.jsonl")), log(p(f"{name}.core.jsonl"))
        compare(a, b, ["loss", "val_loss", "train_loss"], f"{name}: twin vs core, losses and evaluations over 20 steps", 1e-4)
        # accuracy counts points: one near-tie point may fall either way (measured: 1 of 200 for mlp-bn)
        check(f"{name}: twin vs core, held-out accuracy at the last step (absolute)",
              abs(a[-1]["accuracy"] - b[-1]["accuracy"]), 0.01)
    core("train", "--preset", "cnn-digits", "--steps", "20", "--log", p("cnn-digits.core.jsonl"))
    twin("--preset", "cnn-digits", "--steps", "20", "--log", p("cnn-digits.twin.jsonl"), "--save", p("cnn20.safetensors"))
    a, b = log(p("cnn-digits.twin.jsonl")), log(p("cnn-digits.core.jsonl"))
    compare(a[:1], b[:1], ["loss", "block_act_rms"], "cnn-digits (AdamW): twin vs core, step 1", 1e-5)
    compare(a, b, ["loss"], "cnn-digits (AdamW): twin vs core, losses over 20 steps", 1e-2)
    twin("--config", cnn_sgd, "--log", p("cnn-ddp2.jsonl"), procs=2)
    compare(log(p("cnn-ddp2.jsonl")), log(p("cnn-sgd.twin.jsonl")), ["loss", "grad_norm", "block_act_rms", "val_loss"],
            "cnn (BatchNorm): 2 processes (SyncBatchNorm) vs 1 over 20 steps", 1e-5)
    # running statistics travel both ways (I64 num_batches_tracked included)
    core("train", "--config", cnn_sgd, "--steps", "10", "--save", p("cnn10.core.safetensors"))
    twin("--config", cnn_sgd, "--load", p("cnn10.core.safetensors"), "--log", p("cnn-c2t.jsonl"))
    compare(log(p("cnn-c2t.jsonl")), log(p("cnn-sgd.core.jsonl"))[10:], ["loss", "val_loss"],
            "cnn checkpoint of the core -> twin --load, steps 11..20 vs the core's 20", 1e-4)
    twin("--config", cnn_sgd, "--steps", "10", "--save", p("cnn10.twin.safetensors"))
    core("train", "--config", cnn_sgd, "--load", p("cnn10.twin.safetensors"), "--log", p("cnn-t2c.jsonl"))
    compare(log(p("cnn-t2c.jsonl")), log(p("cnn-sgd.twin.jsonl"))[10:], ["loss", "val_loss"],
            "cnn checkpoint of the twin -> resnorm train --load, steps 11..20 vs the twin's 20", 1e-4)

    # the Chinese corpus: a code-point vocabulary (thousands of characters), as the core's
    tang = p("tang.json")
    with open(tang, "w") as f:
        f.write('{"model": {"kind": "gpt", "depth": 1, "width": 32, "heads": 2, "context": 32}, '
                '"data": {"name": "tangpoems"}, "optim": {"batch": 8, "steps": 20}, "eval": {"every": 10, "batches": 2}}')
    core("train", "--config", tang, "--log", p("tang.core.jsonl"))
    twin("--config", tang, "--log", p("tang.twin.jsonl"), "--save", p("tang.safetensors"))
    compare(log(p("tang.twin.jsonl")), log(p("tang.core.jsonl")), ["loss", "val_loss"],
            "gpt on tangpoems (code-point vocabulary): twin vs core over 20 steps", 1e-4)
    s = run([CLI, "sample", "--load", p("tang.safetensors"), "--tokens", "10", "--prompt", "床前"])
    ok = s.stdout.startswith("床前") and len(s.stdout.strip()) == 12
    print(f"{'ok  ' if ok else 'FAIL'} resnorm sample reads the twin's code-point vocabulary: {s.stdout.strip()!r}")
    if not ok:
        FAILS.append("code-point vocabulary round trip")

    # 5. --bf16: close to float32, and not float32
    # The BatchNorm mlp (SGD, momentum 0.9, lr 0.05, doubled residual) is chaotic enough that bf16's rounding
    # moves its trajectory by 7e-2..1.8e-1 from step 15 on (measured); its first 10 steps are compared.
    for name, args, n in (("mlp-spiral", ["--preset", "mlp-spiral"], 20), ("gpt-tiny", ["--preset", "gpt-tiny"], 20),
                          ("cnn-sgd", ["--config", cnn_sgd], 20), ("mlp-bn", ["--config", mlp_bn], 10)):
        twin(*args, "--steps", "20", "--bf16", "--log", p(f"{name}.bf16.jsonl"))
        lo = log(p(f"{name}.bf16.jsonl"))[:n]
        ref = log(p(f"{name}.twin.jsonl"))[:n]
        compare(lo, ref, ["loss"], f"{name} --bf16 vs float32, losses over {n} steps", 5e-2)
        d = max(rel(x["loss"], y["loss"]) for x, y in zip(lo, ref))
        print(f"{'ok  ' if d > 0 else 'FAIL'} {name} --bf16 changes the arithmetic (worst {d:.1e} from float32)")
        if d == 0:
            FAILS.append(f"{name} --bf16 equals float32")

    # 6. refusals: the core's config messages, an uneven batch, a model the device cannot hold
    bad = p("bad.json")
    with open(bad, "w") as f:
        f.write('{"model": {"kind": "gpt", "depth": 0}, "data": {"name": "tinyshakespeare"}}')
    want = run([CLI, "train", "--config", bad], expect=1).stderr.strip().replace("resnorm: ", "", 1)
    got = run([PY, TRAIN, "--config", bad], expect=1).stderr.strip().replace("resnorm_torch: ", "", 1)
    refusals = [("a bad config gets the core's message", got == want, f"{got!r} vs {want!r}")]
    uneven = dict(ENV, WORLD_SIZE="5", RANK="0")
    got = run([PY, TRAIN, "--preset", "gpt-tiny"], expect=1, env=uneven).stderr
    refusals.append(("a batch that does not divide by the processes is refused",
                     "optim.batch = 12 does not divide by the 5 processes" in got, got))
    huge = p("huge.json")
    with open(huge, "w") as f:
        f.write('{"model": {"kind": "gpt", "depth": 64, "width": 4096, "heads": 32, "context": 1024}, '
                '"data": {"name": "tinyshakespeare"}, "optim": {"batch": 64}}')
    got = run([PY, TRAIN, "--config", huge], expect=1).stderr
    refusals.append(("a run the device cannot hold is refused, naming the sizes", "MiB per process" in got, got))
    for label, ok, detail in refusals:
        print(f"{'ok  ' if ok else 'FAIL'} {label}" + ("" if ok else f": {detail}"))
        if not ok:
            FAILS.append(label)

    print(f"twin tests: {len(FAILS)} failed, {time.time() - t0:.0f} s")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())

# Replays what tests/cpp/test_pytorch.cpp recorded from our Trainer (logits, loss, every gradient, 20
# optimiser steps) in PyTorch and compares; exits non-zero naming the case and tensor on a mismatch.
"""Usage: /usr/bin/python3 tests/torch_ref/parity.py DIR [DIR ...]

Each DIR holds, written by the C++ test:
  model.safetensors  our checkpoint before the first step (config and vocab in __metadata__)
  ours.safetensors   tensors: logits [N,V] and grad.<name> (at the checkpoint, on batch 0, before
                     clipping), final.<name> (after the steps), batch.<k>.inputs / batch.<k>.targets
                     (float32-encoded ids or points, k = 0..steps-1); gpt also short.tokens [1,n]
                     and short.logits [n,V], an inference call with n < context;
                     metadata: loss (batch 0), losses (JSON list, one per step), decay (JSON list of
                     the parameter names our optimiser decays)

The replay uses torch.optim.AdamW (or SGD) with weight decay only on the decayed names, the same
per-step learning rate as our learning_rate(), and torch.nn.utils.clip_grad_norm_ with our clip,
following PyTorch's documented update rules (pytorch.org/docs/1.13/generated/torch.optim.AdamW.html).

Tolerances, all float32 (see test_pytorch.cpp):
  logits   max|ours - torch| / max|torch|                          <= 1e-5
  loss     |ours - torch| / |torch|                                <= 1e-5
  grads    per tensor max|ours - torch| / max(max|torch|, floor)   <= 1e-4
           floor = 1e-3 * the largest |grad| of the whole model, so that a tensor whose gradient is
           exactly zero (ReZero branches at initialisation, where a = 0) is compared at the model's
           gradient scale instead of dividing by zero
  losses   max over steps |ours - torch| / |torch|                 <= 1e-4
Final parameters are printed for information only: Adam's update m/sqrt(v) maps rounding noise in
gradients that vanish in exact arithmetic (the attention key bias: softmax ignores a shift shared by
all keys, so its gradient is ~1e-12) to steps of size ~lr, so they are not a clean parity measure.
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import ResNormModel, load_safetensors  # noqa: E402

TOL = {"logits": 1e-5, "loss": 1e-5, "grad": 1e-4, "losses": 1e-4}
GRAD_FLOOR = 1e-3


def learning_rate(o, step):
    """Mirror of cpp/core/optimizer.cpp learning_rate(): linear warmup, then constant or cosine."""
    if step < o["warmup"]:
        return o["lr"] * (step + 1) / o["warmup"]
    if o["schedule"] == "constant":
        return o["lr"]
    span = max(1, o["steps"] - o["warmup"])
    progress = min(1.0, (step - o["warmup"]) / span)
    return o["min_lr"] + 0.5 * (o["lr"] - o["min_lr"]) * (1.0 + math.cos(math.pi * progress))


def batch(ours, k, gpt):
    x = ours[f"batch.{k}.inputs"]
    y = ours[f"batch.{k}.targets"].round().long()
    return (x.round().long() if gpt else x), y


def check_dir(d):
    """Returns a list of failure messages for one case directory (empty when it matches)."""
    torch.manual_seed(0)
    params, meta = load_safetensors(os.path.join(d, "model.safetensors"))
    ours, ometa = load_safetensors(os.path.join(d, "ours.safetensors"))
    cfg = json.loads(meta["config"])
    m, o = cfg["model"], cfg["optim"]
    gpt = m["kind"] == "gpt"
    classes = len(json.loads(meta["vocab"])) if gpt else params["head.weight"].shape[0]
    model = ResNormModel(m, classes)
    model.load_state_dict(params, strict=True)
    name = os.path.basename(os.path.normpath(d))
    fails = []
    print(f"== {name}: {m['kind']} depth {m['depth']} width {m['width']} residual {m['residual']} "
          f"norm {m['norm']} placement {m['placement']}, {o['name']}")

    def report(label, err, tol, extra=""):
        ok = err <= tol
        print(f"  {'ok  ' if ok else 'FAIL'} {label:<40} {err:.3e} (tol {tol:.0e}){extra}")
        if not ok:
            fails.append(f"{name}: {label} differs from PyTorch: {err:.3e} > {tol:.0e}{extra}")

    # 1. Forward and backward at the checkpoint on batch 0.
    x, y = batch(ours, 0, gpt)
    logits, loss = model(x, y)
    model.zero_grad(set_to_none=False)
    loss.backward()
    ref = logits.detach().reshape(-1, classes)
    mine = ours["logits"]
    if mine.shape != ref.shape:
        fails.append(f"{name}: logits shape {tuple(mine.shape)} != torch {tuple(ref.shape)}")
        return fails
    report("logits", ((mine - ref).abs().max() / ref.abs().max()).item(), TOL["logits"],
           f"  max abs {(mine - ref).abs().max().item():.2e}")
    if "short.tokens" in ours:  # gpt inference on a sequence shorter than the context
        with torch.no_grad():
            z, _ = model(ours["short.tokens"].round().long())
        z = z.reshape(-1, classes)
        report("logits (short inference sequence)",
               ((ours["short.logits"] - z).abs().max() / z.abs().max()).item(), TOL["logits"])
    our_loss = float(ometa["loss"])
    report("loss", abs(our_loss - loss.item()) / abs(loss.item()), TOL["loss"],
           f"  ours {our_loss:.7f} torch {loss.item():.7f}")
    named = dict(model.named_parameters())
    gmax = max(p.grad.abs().max().item() for p in named.values())
    worst = (0.0, "")
    for pname, p in named.items():
        key = "grad." + pname
        if key not in ours:
            fails.append(f"{name}: our gradient for {pname} is missing")
            continue
        g = ours[key]
        if g.shape != p.grad.shape:
            fails.append(f"{name}: gradient {pname} has shape {tuple(g.shape)}, torch {tuple(p.grad.shape)}")
            continue
        diff = (g - p.grad).abs().max().item()
        err = diff / max(p.grad.abs().max().item(), GRAD_FLOOR * gmax)
        if err > TOL["grad"]:
            report(f"grad {pname}", err, TOL["grad"], f"  max abs {diff:.2e}")
        worst = max(worst, (err, pname))
    report(f"grads ({len(named)} tensors; worst {worst[1]})", worst[0], TOL["grad"])

    # 2. The optimiser steps on the recorded batches.
    decay_names = set(json.loads(ometa["decay"]))
    rule = {n for n, p in named.items() if p.dim() >= 2}
    if decay_names != rule:
        fails.append(f"{name}: our weight-decay set differs from 'matrices and embeddings': "
                     f"{sorted(decay_names ^ rule)}")
    groups = [{"params": [p for n, p in named.items() if n in decay_names], "weight_decay": o["weight_decay"]},
              {"params": [p for n, p in named.items() if n not in decay_names], "weight_decay": 0.0}]
    if o["name"] == "adamw":
        opt = torch.optim.AdamW(groups, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], foreach=False)
    else:
        opt = torch.optim.SGD(groups, lr=o["lr"], momentum=o["momentum"], foreach=False)
    our_losses = json.loads(ometa["losses"])
    torch_losses = []
    for k in range(len(our_losses)):
        for gr in opt.param_groups:
            gr["lr"] = learning_rate(o, k)
        x, y = batch(ours, k, gpt)
        opt.zero_grad(set_to_none=False)
        _, loss = model(x, y)
        loss.backward()
        if o["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip"])
        opt.step()
        torch_losses.append(loss.item())
    errs = [abs(a - b) / abs(b) for a, b in zip(our_losses, torch_losses)]
    kworst = max(range(len(errs)), key=lambda i: errs[i])
    report(f"losses over {len(errs)} steps (worst step {kworst + 1})", errs[kworst], TOL["losses"],
           f"  ours {our_losses[kworst]:.7f} torch {torch_losses[kworst]:.7f}; "
           f"first {our_losses[0]:.4f} last {our_losses[-1]:.4f}")
    pworst = (0.0, "")
    for pname, p in named.items():
        f = ours.get("final." + pname)
        if f is not None:
            pworst = max(pworst, ((f - p.detach()).abs().max().item(), pname))
    print(f"  info final parameters: max abs difference {pworst[0]:.2e} ({pworst[1]})")
    return fails


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    torch.set_num_threads(1)
    fails = []
    for d in argv[1:]:
        try:
            fails += check_dir(d)
        except Exception as e:  # a broken input names its case instead of a bare traceback
            fails.append(f"{os.path.basename(os.path.normpath(d))}: {type(e).__name__}: {e}")
    if fails:
        print("\nPARITY FAILED:\n  " + "\n  ".join(fails))
        return 1
    print(f"\nparity ok: {len(argv) - 1} case(s) match PyTorch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

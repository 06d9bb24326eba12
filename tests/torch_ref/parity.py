# Replays what tests/cpp/test_pytorch.cpp recorded from our Trainer (logits, loss, every gradient, 20
# optimiser steps and the per-step diagnostics the playground draws) in PyTorch and compares; exits
# non-zero naming the case and the tensor or quantity on a mismatch.
"""Usage: /usr/bin/python3 tests/torch_ref/parity.py DIR [DIR ...]

Each DIR holds, written by the C++ test:
  model.safetensors  our checkpoint before the first step (config and vocab in __metadata__)
  ours.safetensors   tensors: logits [N,V] and grad.<name> (at the checkpoint, on batch 0, before
                     clipping), final.<name> (after the steps), batch.<k>.inputs / batch.<k>.targets
                     (float32-encoded ids or points, k = 0..steps-1); gpt also short.tokens [1,n]
                     and short.logits [n,V], an inference call with n < context;
                     stats.<q>: our Trainer::step()'s StepStats at every step, [steps, n]:
                     grad_norm (n = 1), block_grad_norm, block_act_rms, update_ratio (n = depth),
                     gpt also attn_entropy (n = depth * heads, index layer * heads + head);
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
Diagnostics (StepStats), at every one of the replay's steps, computed from PyTorch's own tensors and
summed in float64 (as ours are): err = |ours - torch| / (max(|torch|, 1e-3 * the largest value of
that quantity at that step) + allowance / tol), i.e. err <= tol exactly when the difference is within
tol of the value plus the absolute allowance (the 1e-3 floor only matters for a value that is 0 in
exact arithmetic); reported separately for step 1 (same parameters on both sides) and all steps:
  quantity (PyTorch side)                                               step 1   all steps
  gradient norm   sqrt(sum of every p.grad^2) after backward, before
                  clip_grad_norm_                                         1e-4     1e-3
  block gradient  the same over the parameters named blocks.<b>.*         1e-4     1e-3
  residual RMS    sqrt(mean(out^2)) of each Block's output (forward hook;
                  post placement: after the post-norm)                    1e-5     1e-4
  update ratio    ||p_after - p_before|| / ||p_before|| over blocks.<b>.*
                  around opt.step() (after clipping); allowance 2^-23     1e-4     1e-4
  attention       entr(p).sum(-1) (nats, 0 ln 0 = 0) of the softmax
  entropy         probabilities, mean over batch and query positions,
                  per layer and head                                      1e-5     1e-5
Why these bounds. Step 1: an L2 norm is 1-Lipschitz (| ||a|| - ||b|| | <= ||a - b||), so gradient
norms inherit the gradients' 1e-4. The RMS is a norm of the forward's activations, which agree like
the logits (1e-5). The entropy of softmax(s) moves by at most 2 ln(T) * max|ds| (dH/ds_i =
-p_i (ln p_i + H), so |dH| <= 2 H max|ds|); with scores O(1) and float32 forward errors ~1e-6 that
is ~2e-6 of H, within the forward's 1e-5.
The update ratio at step 1: Adam's first step is lr * g/(|g| + eps), insensitive to relative
gradient error where |g| >> eps (and ~0 where g is rounding noise far below eps: the key bias); SGD's
is linear in g, so 1e-4 as the gradients; PyTorch's delta is the difference of the stored float32
parameters, which includes their rounding (<= 2^-24 |p| per element, so <= 2^-24 (1 + ratio) in the
ratio; ours, for SGD, is the update before that rounding): the absolute allowance 2^-23.
All steps: the two trajectories drift apart by rounding that Adam amplifies (see the final
parameters below), so later steps compare slightly different models. There the bound is at least
20x the worst error measured over the 23 cases and never below the step-1 bound: the gradient norms
get 1e-3 (ReZero's small gates and the plain net amplify the drift most: 2.4e-5 measured), the
residual RMS gets the losses' 1e-4 (plain net: 2.4e-6), the others keep theirs (update ratio 4.0e-6,
entropy 9.1e-8). So a bug that shows only once the weights have moved (e.g. a post-norm stream, whose
RMS is ~1 in every block at initialisation) is still caught at the 1e-4 level.
Measured worst at step 1 over the 23 cases: gradient norm 9.0e-8, block gradient norm 1.3e-6,
residual RMS 1.3e-7, update ratio 1.1e-6, attention entropy 4.3e-8.
Final parameters are printed for information only: Adam's update m/sqrt(v) maps rounding noise in
gradients that vanish in exact arithmetic (the attention key bias: softmax ignores a shift shared by
all keys, so its gradient is ~1e-12) to steps of size ~lr, so they are not a clean parity measure.
"""
import json
import math
import os
import sys

import torch

# The model lives in the PyTorch twin's package, python/resnorm_torch/model.py.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from resnorm_torch.model import ResNormModel, load_safetensors  # noqa: E402
from resnorm_torch.train import learning_rate  # noqa: E402  (cpp/core/optimizer.cpp's schedule)

TOL = {"logits": 1e-5, "loss": 1e-5, "grad": 1e-4, "losses": 1e-4}
ROUND = 2.0 ** -23  # two float32 half-ulps, relative: the rounding of one stored parameter, both sides
# quantity -> (label, tolerance at step 1, tolerance over all steps, absolute allowance); see the docstring.
DIAG = {
    "grad_norm": ("gradient norm", 1e-4, 1e-3, 0.0),
    "block_grad_norm": ("block gradient norm", 1e-4, 1e-3, 0.0),
    "block_act_rms": ("residual RMS", 1e-5, 1e-4, 0.0),
    "update_ratio": ("update ratio", 1e-4, 1e-4, ROUND),
    "attn_entropy": ("attention entropy", 1e-5, 1e-5, 0.0),
}
WORST = {}  # comparison label -> (worst error over all cases, case, tolerance), for the summary
GRAD_FLOOR = 1e-3


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

    def report(label, err, tol, extra="", key=None):
        ok = err <= tol
        key = key or label
        if err >= WORST.get(key, (-1.0,))[0]:
            WORST[key] = (err, name, tol)
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
    report(f"grads ({len(named)} tensors; worst {worst[1]})", worst[0], TOL["grad"], key="gradients")

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
    L = m["depth"]
    # Parameters of block b: every tensor named blocks.<b>.* (the PyTorch module tree, not our Slice.block).
    in_block = [[(n, p) for n, p in named.items() if n.startswith(f"blocks.{b}.")] for b in range(L)]
    outs = [None] * L  # the residual stream after each block, captured by forward hooks
    if gpt:
        model.keep_attention()
    hooks = [blk.register_forward_hook(lambda mod, inp, out, b=b: outs.__setitem__(b, out.detach()))
             for b, blk in enumerate(model.blocks)]
    torch_losses = []
    diag = {q: [] for q in DIAG}
    for k in range(len(our_losses)):
        for gr in opt.param_groups:
            gr["lr"] = learning_rate(o, k)
        x, y = batch(ours, k, gpt)
        opt.zero_grad(set_to_none=False)
        _, loss = model(x, y)
        loss.backward()
        # Diagnostics, all summed in float64 from PyTorch's own float32 tensors.
        sq = {n: p.grad.double().pow(2).sum().item() for n, p in named.items()}
        diag["grad_norm"].append([math.sqrt(sum(sq.values()))])
        diag["block_grad_norm"].append([math.sqrt(sum(sq[n] for n, _ in ps)) for ps in in_block])
        diag["block_act_rms"].append([outs[b].double().pow(2).mean().sqrt().item() for b in range(L)])
        if gpt:  # entropy in nats of each softmax row (entr(p) = -p ln p, 0 at p = 0), mean over batch and rows
            diag["attn_entropy"].append([e for p in model.attention_probs() for e in
                                         torch.special.entr(p.double()).sum(-1).mean((0, 2)).tolist()])
        if o["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip"])
        before = [[p.detach().clone() for _, p in ps] for ps in in_block]
        opt.step()
        diag["update_ratio"].append([
            math.sqrt(sum((p.detach().double() - p0.double()).pow(2).sum().item() for (_, p), p0 in zip(ps, ws))) /
            math.sqrt(sum(p0.double().pow(2).sum().item() for p0 in ws))
            for ps, ws in zip(in_block, before)])
        torch_losses.append(loss.item())
    for h in hooks:
        h.remove()
    errs = [abs(a - b) / abs(b) for a, b in zip(our_losses, torch_losses)]
    kworst = max(range(len(errs)), key=lambda i: errs[i])
    report(f"losses over {len(errs)} steps (worst step {kworst + 1})", errs[kworst], TOL["losses"],
           f"  ours {our_losses[kworst]:.7f} torch {torch_losses[kworst]:.7f}; "
           f"first {our_losses[0]:.4f} last {our_losses[-1]:.4f}", key=f"losses over {len(errs)} steps")

    # 3. The per-step diagnostics the playground draws, at every step of the replay.
    for q, (label, tol1, tol, allow) in DIAG.items():
        if not diag[q]:
            continue
        ref = torch.tensor(diag[q], dtype=torch.float64)  # [steps, values]
        key = "stats." + q
        if key not in ours:
            fails.append(f"{name}: our {label} ({key}) is missing")
            continue
        mine = ours[key].double()
        if mine.shape != ref.shape:
            fails.append(f"{name}: {label} has shape {tuple(mine.shape)}, torch {tuple(ref.shape)}")
            continue
        # Relative to each value, floored at 1e-3 of the step's largest value (a value that is 0 in exact
        # arithmetic is then compared at its neighbours' scale); the absolute allowance, if any, enters
        # the scale as allow / tol, so err <= tol exactly when |ours - torch| <= tol * scale + allow.
        floor = 1e-3 * ref.abs().max(dim=1, keepdim=True).values
        scale = torch.maximum(ref.abs(), floor).clamp(min=1e-30)
        err = (mine - ref).abs()
        for label2, e, t in ((f"{label} step 1", err[:1], tol1), (f"{label} steps 1-{err.shape[0]}", err, tol)):
            e = e / (scale[:e.shape[0]] + allow / t)
            kk, ii = divmod(int(e.argmax()), e.shape[1])
            report(f"{label2} (worst step {kk + 1} [{ii}])", e[kk, ii].item(), t,
                   f"  ours {mine[kk, ii].item():.7g} torch {ref[kk, ii].item():.7g}", key=label2)

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
    print(f"\nworst over the {len(argv) - 1} case(s):")
    for key, (err, case, tol) in WORST.items():
        print(f"  {'ok  ' if err <= tol else 'FAIL'} {key:<40} {err:.3e} (tol {tol:.0e}) in {case}")
    if fails:
        print("\nPARITY FAILED:\n  " + "\n  ".join(fails))
        return 1
    print(f"\nparity ok: {len(argv) - 1} case(s) match PyTorch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

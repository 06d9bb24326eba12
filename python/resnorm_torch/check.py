# The twin's verdict on files, as `resnorm check` gives the core's (issue 21; tests/hostile compares them):
# each checkpoint is read exactly as train.py --load reads it, into a model of the given config.
"""Usage:
  python3 -m resnorm_torch.check [--preset NAME | --config FILE] [--data TEXT_FILE] CHECKPOINT...
  python3 -m resnorm_torch.check --configs CONFIG...

One line per file: "ok: FILE loads (step N)" (checkpoints), "ok: FILE" (configs), or "refused: MESSAGE"
(one line, what train.py would print). Exit 0 when every file loaded, 1 when any was refused, 2 when one
raised anything else (a bug: its traceback is printed).
"""
import argparse
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from resnorm_torch.checkpoint import read_checkpoint  # noqa: E402
from resnorm_torch.data import Batches  # noqa: E402
from resnorm_torch.model import build_model, count_params  # noqa: E402
from resnorm_torch.strict import Refused, printable  # noqa: E402
from resnorm_torch.train import check_text_splits, core_config, probe, read_text  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(prog="resnorm_torch.check")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--preset")
    g.add_argument("--config")
    ap.add_argument("--data")
    ap.add_argument("--configs", action="store_true", help="the files are configs, validated as train.py reads them")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    worst = 0

    def verdict(f, fn):
        nonlocal worst
        try:
            print(fn(f))
        except Refused as e:
            print(f"refused: {printable(str(e))}")
            worst = max(worst, 1)
        except Exception:  # noqa: BLE001 - anything else is a bug the corpus must show
            print(f"traceback: {printable(f)}: " + printable(traceback.format_exc().strip().splitlines()[-1]))
            traceback.print_exc()
            worst = 2
        sys.stdout.flush()

    if a.configs:
        for f in a.files:
            verdict(f, lambda p: (core_config(config_path=p), f"ok: {printable(p)}")[1])
        return worst
    try:
        cfg = core_config(preset=a.preset or ("mlp-spiral" if not a.config else None), config_path=a.config)
        text = read_text(a.data, cfg["data"]["name"]) if cfg["model"]["kind"] == "gpt" else None
        if text is not None:
            check_text_splits(text, cfg["model"]["context"], a.data or cfg["data"]["name"])
        batches = Batches(cfg, text, None)
    except (Refused, ValueError) as e:
        print(f"resnorm_torch: {printable(str(e))}", file=sys.stderr)
        return 1
    classes = batches.classes()
    count_params(cfg["model"], classes)
    for f in a.files:
        def load(p):
            model = build_model(cfg["model"], classes)
            ck = read_checkpoint(p, cfg, text, model, cfg["optim"]["name"], core_config, lambda m: probe(m, cfg, batches))
            return f"ok: {printable(p)} loads (step {ck['step']})"
        verdict(f, load)
    return worst


if __name__ == "__main__":
    sys.exit(main())

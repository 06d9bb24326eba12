# One verdict for core, twin and page (issue 21): generates the hostile corpus (make_corpus.py) from two
# checkpoints the core saves, gives every file to the core CLI (resnorm show / check), the PyTorch twin
# (resnorm_torch.check) and the wasm engine (verdicts.mjs), and fails unless all three accept or all three
# refuse each file, every refusal one line with no traceback.
"""Usage: /usr/bin/python3 tests/hostile/run.py path/to/resnorm [WORK_DIR]"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
GROUPS = {  # the runs the checkpoints are checked against; the mlp has BatchNorm buffers, the gpt a text
    "mlp": {"model": {"kind": "mlp", "depth": 2, "width": 8, "norm": "batchnorm"}, "optim": {"steps": 3}},
    "gpt": {"model": {"kind": "gpt", "depth": 1, "width": 16, "heads": 2, "context": 8}, "data": {"name": "text"},
            "optim": {"steps": 3, "batch": 2}, "eval": {"batches": 1}},
}


def verdict_of(rc, out, err):
    """(verdict, message): ok / refused, or bad (anything else: a crash, a hang, a traceback, two lines)."""
    if rc == 0:
        return "ok", out.strip()
    lines = [x for x in err.strip().splitlines() if x.strip()]
    if rc != 1 or len(lines) != 1 or "Traceback" in err:
        return "bad", f"exit {rc}: " + " | ".join(lines[-3:])
    return "refused", lines[0]


def lines_verdicts(stdout, files):
    """The one-line-per-file output of resnorm_torch.check / verdicts.mjs."""
    got = [x for x in stdout.splitlines() if x.startswith(("ok:", "refused:", "traceback:"))]
    out = {}
    for i, f in enumerate(files):
        line = got[i] if i < len(got) else "missing"
        out[f] = ("ok" if line.startswith("ok:") else "refused" if line.startswith("refused:") else "bad", line)
    return out


def main():
    cli = os.path.abspath(sys.argv[1])
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="hostile-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, RESNORM_BIN=cli, OMP_NUM_THREADS="1", PYTHONPATH=os.path.join(ROOT, "python"))
    text = os.path.join(work, "text.txt")
    with open(text, "w") as f:
        f.write("It is a truth universally acknowledged, that a single man in possession of a good fortune. " * 20)
    bases = {}
    for g, cfg in GROUPS.items():
        with open(os.path.join(work, g + ".json"), "w") as f:
            json.dump(cfg, f)
        bases[g] = os.path.join(work, g + ".safetensors")
        cmd = [cli, "train", "--config", os.path.join(work, g + ".json"), "--save", bases[g], "--quiet"]
        subprocess.run(cmd + (["--data", text] if g == "gpt" else []), check=True, capture_output=True)
    corpus = os.path.join(work, "corpus")
    subprocess.run(["rm", "-rf", corpus], check=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), corpus, bases["mlp"], bases["gpt"]], check=True)
    with open(os.path.join(corpus, "manifest.json")) as f:
        manifest = json.load(f)
    files = sorted(manifest)
    verdicts = {f: {} for f in files}
    seconds = {"core": 0.0, "twin": 0.0, "wasm": 0.0}
    node = ["node", "--no-experimental-fetch", os.path.join(HERE, "verdicts.mjs")]
    twin = [sys.executable, "-m", "resnorm_torch.check"]

    def batch(who, cmd, fs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd + [os.path.join(corpus, f) for f in fs], capture_output=True, text=True, env=env,
                           timeout=600, errors="replace")
        seconds[who] += time.perf_counter() - t0
        got = lines_verdicts(r.stdout, fs)
        for f in fs:
            verdicts[f][who] = got[f]
        if r.returncode not in (0, 1):
            print(f"{who}: exit {r.returncode}: {r.stderr[-2000:]}")

    configs = [f for f in files if manifest[f]["kind"] == "config"]
    for f in configs:
        t0 = time.perf_counter()
        try:
            r = subprocess.run([cli, "show", "--no-cap", "--config", os.path.join(corpus, f)], capture_output=True,
                               timeout=10, errors="replace")
            verdicts[f]["core"] = verdict_of(r.returncode, r.stdout, r.stderr)
        except subprocess.TimeoutExpired:
            verdicts[f]["core"] = ("bad", "timed out after 10 s")
        seconds["core"] += time.perf_counter() - t0
    batch("twin", twin + ["--configs"], configs)
    batch("wasm", node + ["configs"], configs)
    for g in GROUPS:
        cfg = os.path.join(work, g + ".json")
        data = ["--data", text] if g == "gpt" else []
        fs = [f for f in files if manifest[f].get("group") == g]
        for f in fs:
            t0 = time.perf_counter()
            try:
                r = subprocess.run([cli, "check", "--config", cfg, "--load", os.path.join(corpus, f)] + data,
                                   capture_output=True, timeout=10, errors="replace")
                verdicts[f]["core"] = verdict_of(r.returncode, r.stdout, r.stderr)
            except subprocess.TimeoutExpired:
                verdicts[f]["core"] = ("bad", "timed out after 10 s")
            seconds["core"] += time.perf_counter() - t0
        batch("twin", twin + ["--config", cfg] + data, fs)
        batch("wasm", node + ["checkpoints", cfg, text if g == "gpt" else "-"], fs)

    fails = 0
    counts = {w: {"ok": 0, "refused": 0, "bad": 0} for w in ("core", "twin", "wasm")}
    for f in files:
        v = verdicts[f]
        for w in counts:
            counts[w][v[w][0]] += 1
        kinds = {v[w][0] for w in counts}
        expect_ok = os.path.basename(f).startswith("ok-")
        if len(kinds) != 1 or "bad" in kinds or (kinds == {"ok"}) != expect_ok:
            fails += 1
            print(f"DISAGREE {f} ({manifest[f]['what']}):")
            for w in counts:
                print(f"    {w}: {v[w][0]}: {v[w][1][:220]}")
    print(f"hostile corpus: {len(files)} files ({len(configs)} configs, {len(files) - len(configs)} checkpoints)")
    for w, c in counts.items():
        print(f"  {w}: {c['ok']} accepted, {c['refused']} refused, {c['bad']} crashed/hung/traceback; "
              f"{seconds[w]:.1f} s")
    if fails:
        print(f"hostile corpus: {fails} files without one verdict (or against the file's name: ok-* must load)")
        return 1
    print("hostile corpus: one verdict for core, twin and wasm on every file")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# The twin refuses what the core refuses, with one line and no traceback, and saves as the core does
# (issue 21): WORLD_SIZE=0, caps on --load and --data checked from the size, the cnn's memory checked
# before it is built, step and batch_rng as the core reads them, NaN weights through from_checkpoint, a text
# too short found before step 1, SIGINT saves and exits 130, a full disk (--log /dev/full) exits 1 and
# still saves, exit 3 saves parameters that load. Each case is checked against the core's own verdict.
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable
TRAIN = os.path.join(ROOT, "python", "resnorm_torch", "train.py")
CLI = os.environ.get("RESNORM_BIN") or os.path.join(ROOT, "build", "native", "resnorm")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", RESNORM_BIN=CLI,
           PYTHONPATH=os.path.join(ROOT, "python"))
TMP = tempfile.mkdtemp(prefix="resnorm-refusals-")
FAILS = []


def p(name):
    return os.path.join(TMP, name)


def run(args, env=None, timeout=120):
    try:
        return subprocess.run(args, capture_output=True, text=True, env=env or ENV, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:  # a hang is a failure of its case, not of the script
        return subprocess.CompletedProcess(args, -9, "", f"timed out after {timeout} s")


def one_line_refusal(r, pattern):
    lines = r.stderr.strip().splitlines()
    return r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr and pattern in lines[0]


def case(label, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {label}" + ("" if ok else f": {str(detail)[:600]}"))
    if not ok:
        FAILS.append(label)


def meta_edit(src, dst, **kv):
    raw = open(src, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    h["__metadata__"].update(kv)
    hb = json.dumps(h, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])


def value_edit(src, dst, name, value):
    raw = bytearray(open(src, "rb").read())
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    struct.pack_into("<f", raw, 8 + n + h[name]["data_offsets"][0], value)
    open(dst, "wb").write(bytes(raw))


def main():
    subprocess.run([CLI, "train", "--preset", "mlp-spiral", "--steps", "3", "--save", p("m.safetensors"), "--quiet"],
                   check=True, capture_output=True)
    twin = [PY, TRAIN, "--quiet", "--preset", "mlp-spiral"]

    r = run(twin + ["--steps", "2"], env=dict(ENV, WORLD_SIZE="0"))
    case("WORLD_SIZE=0 is refused in one line", one_line_refusal(r, "WORLD_SIZE = 0: the number of processes must be at least 1"), r.stderr)
    r = run(twin + ["--steps", "2"], env=dict(ENV, WORLD_SIZE="2", RANK="5"))
    case("RANK outside 0..WORLD_SIZE-1 is refused", one_line_refusal(r, "RANK = 5 is outside 0..1"), r.stderr)

    r = run(twin + ["--steps", "5", "--load", "/dev/zero"])
    case("--load /dev/zero is refused at once", one_line_refusal(r, "not a regular file (a character device)"), r.stderr)
    os.mkfifo(p("fifo"))
    r = run(twin + ["--steps", "5", "--load", p("fifo")], timeout=20)
    case("--load FIFO is refused at once", one_line_refusal(r, "(a FIFO)"), r.stderr)
    r = run(twin + ["--steps", "5", "--log", p("fifo")], timeout=20)
    case("--log FIFO is refused at once", one_line_refusal(r, "not a regular file or a character device"), r.stderr)
    with open(p("big.txt"), "wb") as f:  # 300 MB, sparse: refused from its size, nothing read
        f.truncate(300 << 20)
    r = run([PY, TRAIN, "--quiet", "--preset", "gpt-tiny", "--data", p("big.txt")])
    case("--data of 300 MB is refused from its size", one_line_refusal(r, "is over 268435456 bytes"), r.stderr)

    # The cnn's memory is checked before it is built: peak RSS stays far below the model's 3 GB.
    with open(p("widecnn.json"), "w") as f:
        json.dump({"model": {"kind": "cnn", "width": 4096, "depth": 2}, "data": {"name": "digits"}}, f)
    r = subprocess.run([PY, "-c", "import resource,runpy,sys; sys.argv=sys.argv[1:]; "
                        "exec(\"try:\\n runpy.run_path(sys.argv[0], run_name='__main__')\\nexcept SystemExit as e:\\n "
                        "print('rss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); raise\")",
                        TRAIN, "--quiet", "--config", p("widecnn.json")], capture_output=True, text=True, env=ENV)
    rss = [int(x.split()[1]) for x in r.stderr.splitlines() if x.startswith("rss ")]
    lines = [x for x in r.stderr.splitlines() if not x.startswith("rss ")]
    case("a cnn of width 4096 is refused before it is built (peak RSS < 1 GB)",
         r.returncode == 1 and len(lines) == 1 and "MiB per process" in lines[0] and rss and rss[0] < (1 << 20),
         f"exit {r.returncode}, rss {rss} KB, {r.stderr}")

    # step, optim_t and batch_rng as the core reads them
    meta_edit(p("m.safetensors"), p("step-neg.safetensors"), step="-1000000")
    r = run(twin + ["--steps", "5", "--load", p("step-neg.safetensors")])
    c = run([CLI, "check", "--preset", "mlp-spiral", "--load", p("step-neg.safetensors")])
    case("step -1000000 is refused, as by the core", one_line_refusal(r, 'bad step "-1000000"') and c.returncode == 1, r.stderr)
    meta_edit(p("m.safetensors"), p("rng00.safetensors"), batch_rng="0 0")
    r = run(twin + ["--steps", "6", "--load", p("rng00.safetensors"), "--log", p("rng00.twin.jsonl")], timeout=60)
    c = run([CLI, "train", "--preset", "mlp-spiral", "--steps", "6", "--load", p("rng00.safetensors"), "--log",
             p("rng00.core.jsonl"), "--quiet"])
    same = r.returncode == 0 and c.returncode == 0 and os.path.exists(p("rng00.twin.jsonl")) and \
        [round(json.loads(x)["loss"], 4) for x in open(p("rng00.twin.jsonl"))] == \
        [round(json.loads(x)["loss"], 4) for x in open(p("rng00.core.jsonl"))]
    case('batch_rng "0 0": the increment is forced odd, the twin trains the core\'s batches', same, r.stderr + c.stderr)

    # NaN weights through python -m resnorm_torch.model (from_checkpoint)
    value_edit(p("m.safetensors"), p("nan.safetensors"), "head.weight", float("nan"))
    r = run([PY, "-m", "resnorm_torch.model", p("nan.safetensors")])
    case("NaN weights are refused by from_checkpoint in one line", r.returncode == 1 and "non-finite" in r.stderr and
         "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr)
    r = run([PY, "-m", "resnorm_torch.model", p("m.safetensors")])
    case("a good checkpoint still loads through from_checkpoint", r.returncode == 0 and "parameters loaded" in r.stdout, r.stderr)

    # a text too short for the context: refused before step 1, as the core
    with open(p("short.txt"), "w") as f:
        f.write("abcdefghij" * 60)
    r = run([PY, TRAIN, "--quiet", "--preset", "gpt-tiny", "--data", p("short.txt"), "--log", p("short.jsonl")])
    case("a text too short for the context is refused before step 1",
         one_line_refusal(r, "validation part (the last 10%, 60 characters) is shorter than model.context + 2")
         and (not os.path.exists(p("short.jsonl")) or os.path.getsize(p("short.jsonl")) == 0), r.stderr)

    # SIGINT: the step finishes, the checkpoint is saved, exit 130; the checkpoint loads in the core
    proc = subprocess.Popen([PY, TRAIN, "--quiet", "--preset", "mlp-spiral", "--steps", "10000000", "--log",
                             p("int.jsonl"), "--save", p("int.safetensors")], env=ENV, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a background job starts with SIGINT ignored, and the twin (as the core) keeps an
                            # ignored signal ignored: the child gets the default disposition, as from a terminal
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(600):
        if os.path.exists(p("int.jsonl")) and sum(1 for _ in open(p("int.jsonl"))) >= 3:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    last = open(p("int.jsonl")).read().splitlines()[-1]
    step = json.loads(last)["step"]
    c = run([CLI, "check", "--preset", "mlp-spiral", "--load", p("int.safetensors")])
    case("SIGINT saves the last step and exits 130", proc.returncode == 130 and f"saved {p('int.safetensors')} (step {step})"
         in err and "Traceback" not in err and f"loads (step {step})" in c.stdout, f"exit {proc.returncode}: {err}")

    # a full disk: --log /dev/full exits 1 with one line, and the checkpoint is still saved
    r = run(twin + ["--steps", "5", "--log", "/dev/full", "--save", p("full.safetensors")])
    errs = [x for x in r.stderr.strip().splitlines() if not x.startswith("saved ")]
    case("--log /dev/full: exit 1, one line, the checkpoint saved", r.returncode == 1 and len(errs) == 1 and
         "/dev/full" in errs[0] and "Traceback" not in r.stderr and os.path.exists(p("full.safetensors")), r.stderr)

    # divergence: exit 3 saves the last parameters whose loss was finite; the core loads them
    with open(p("div.json"), "w") as f:
        json.dump({"model": {"kind": "mlp", "norm": "none", "residual": "none"},
                   "optim": {"name": "sgd", "lr": 10, "clip": 0, "warmup": 0, "steps": 500}}, f)
    r = run([PY, TRAIN, "--quiet", "--config", p("div.json"), "--save", p("div.safetensors")])
    c = run([CLI, "check", "--config", p("div.json"), "--load", p("div.safetensors")])
    case("exit 3 saves parameters that load (twin saves, core checks)", r.returncode == 3 and c.returncode == 0 and
         "the last parameters whose loss was finite" in r.stderr, r.stderr + c.stderr)
    print("refusals: all passed" if not FAILS else f"refusals: {len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())

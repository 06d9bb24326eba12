# Property tests of the twin's checkpoint loader (issue 21), with Debian's python3-hypothesis:
#  1. round trip: whatever small model the core trains and saves, the twin reads back bit for bit, and what
#     the twin writes, the core accepts and reads back bit for bit (resnorm check, then a byte compare);
#  2. one verdict: a core-written checkpoint with any byte of its header, or any metadata value, changed is
#     accepted or refused by the twin exactly when the core (resnorm check) accepts or refuses it.
import json
import os
import struct
import subprocess
import sys
import tempfile

# Hypothesis keeps a folder of its own (.hypothesis) in the working directory unless told where: a temp one.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="resnorm-hypothesis-"))
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
CLI = os.environ.get("RESNORM_BIN") or os.path.join(ROOT, "build", "native", "resnorm")
os.environ["RESNORM_BIN"] = CLI
from resnorm_torch.checkpoint import read_checkpoint, write_checkpoint  # noqa: E402
from resnorm_torch.data import Batches  # noqa: E402
from resnorm_torch.model import build_model  # noqa: E402
from resnorm_torch.strict import Refused  # noqa: E402
from resnorm_torch.train import core_config, probe  # noqa: E402

WORK = tempfile.mkdtemp(prefix="resnorm-strict-")
FAILS = []
SETTINGS = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "25")), deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def core_check(cfg_path, ck):
    r = subprocess.run([CLI, "check", "--config", cfg_path, "--load", ck], capture_output=True, text=True, errors="replace")
    assert r.returncode in (0, 1), f"resnorm check exit {r.returncode}: {r.stderr}"
    assert r.returncode == 0 or len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.returncode == 0, r.stderr.strip()


def twin_check(cfg, ck):
    batches = Batches(cfg, None, None)
    model = build_model(cfg["model"], batches.classes())
    try:
        got = read_checkpoint(ck, cfg, None, model, cfg["optim"]["name"], core_config, lambda m: probe(m, cfg, batches))
        return True, got, model
    except Refused as e:
        assert "\n" not in str(e), str(e)
        return False, str(e), model


def tensors_bytes(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in h.items() if k != "__metadata__"}


configs = st.fixed_dictionaries({
    "model": st.fixed_dictionaries({
        "kind": st.just("mlp"), "depth": st.integers(1, 3), "width": st.integers(1, 8),
        "norm": st.sampled_from(["none", "layernorm", "rmsnorm", "batchnorm"]),
        "residual": st.sampled_from(["identity", "rezero", "none", "deepnorm", "doubled"]),
        "placement": st.sampled_from(["pre", "post", "sandwich"]), "activation": st.sampled_from(["relu", "tanh", "gelu"])}),
    "optim": st.fixed_dictionaries({"name": st.sampled_from(["adamw", "sgd"]), "steps": st.integers(1, 4),
                                    "batch": st.integers(1, 8)}),
    "seed": st.integers(0, 2 ** 32 - 1)})


@SETTINGS
@given(configs)
def test_round_trip(c):
    path = os.path.join(WORK, "rt.json")
    with open(path, "w") as f:
        json.dump(c, f)
    r = subprocess.run([CLI, "show", "--config", path], capture_output=True, text=True)
    if r.returncode != 0:  # a combination the core refuses (e.g. deepnorm with post); nothing to round-trip
        return
    cfg = json.loads(r.stdout)
    ck = os.path.join(WORK, "rt.safetensors")
    subprocess.run([CLI, "train", "--config", path, "--save", ck, "--quiet"], check=True, capture_output=True)
    ok, got, model = twin_check(cfg, ck)
    assert ok, got
    ours = tensors_bytes(ck)
    for name, t in model.state_dict().items():
        assert t.detach().contiguous().numpy().astype("<i8" if t.dtype.is_floating_point is False else "<f4").tobytes() \
            == ours[name], name
    for name, t in got["tensors"].items():
        assert t.numpy().astype("<f4").tobytes() == ours[name], name
    back = os.path.join(WORK, "rt-twin.safetensors")
    tensors = dict(model.state_dict())
    tensors.update(got["tensors"])
    write_checkpoint(back, cfg, None, got["step"], tensors, (cfg["optim"]["name"], got["optim_t"], got["batch_rng"]))
    ok, msg = core_check(path, back)
    assert ok, msg
    assert tensors_bytes(back) == ours


BASE = {}


def base():
    if not BASE:
        cfg_path = os.path.join(WORK, "base.json")
        with open(cfg_path, "w") as f:
            json.dump({"model": {"kind": "mlp", "depth": 2, "width": 4, "norm": "batchnorm"}, "optim": {"steps": 2}}, f)
        ck = os.path.join(WORK, "base.safetensors")
        subprocess.run([CLI, "train", "--config", cfg_path, "--save", ck, "--quiet"], check=True, capture_output=True)
        BASE.update(cfg_path=cfg_path, raw=open(ck, "rb").read(),
                    cfg=json.loads(subprocess.run([CLI, "show", "--config", cfg_path], capture_output=True, text=True).stdout))
    return BASE


def same_verdict(raw):
    b = base()
    ck = os.path.join(WORK, "mutant.safetensors")
    with open(ck, "wb") as f:
        f.write(raw)
    core_ok, core_msg = core_check(b["cfg_path"], ck)
    twin_ok, twin_msg, _ = twin_check(b["cfg"], ck)
    assert core_ok == twin_ok, f"core {'accepts' if core_ok else 'refuses: ' + core_msg}, twin " \
                               f"{'accepts' if twin_ok else 'refuses: ' + str(twin_msg)}"


@SETTINGS
@given(st.data())
def test_header_byte_changed(data):
    raw = bytearray(base()["raw"])
    n = struct.unpack("<Q", raw[:8])[0]
    i = data.draw(st.integers(0, 8 + n - 1))
    raw[i] = data.draw(st.sampled_from([0x00, 0x20, 0x22, 0x2c, 0x2d, 0x30, 0x31, 0x39, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x65,
                                        0x2e, 0x5c, 0x75, 0x80, 0xff, raw[i] ^ 1]))
    same_verdict(bytes(raw))


@SETTINGS
@given(st.sampled_from(["step", "optim_t", "batch_rng", "optim_state", "format"]),
       st.one_of(st.text(max_size=12), st.integers(-2 ** 70, 2 ** 70).map(str),
                 st.tuples(st.integers(-2 ** 65, 2 ** 65), st.integers(-2 ** 65, 2 ** 65)).map(lambda t: f"{t[0]} {t[1]}")))
def test_metadata_value_changed(key, value):
    raw = base()["raw"]
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    h["__metadata__"][key] = value
    hb = json.dumps(h, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    same_verdict(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])


if __name__ == "__main__":
    for t in (test_round_trip, test_header_byte_changed, test_metadata_value_changed):
        try:
            t()
            print(f"ok   {t.__name__}")
        except Exception as e:  # noqa: BLE001
            print(f"FAIL {t.__name__}: {e}")
            FAILS.append(t.__name__)
    sys.exit(1 if FAILS else 0)

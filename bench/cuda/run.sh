#!/usr/bin/env bash
# The one prepared GPU script of issue 5: builds the cuda preset, runs the [cuda] tests, the kernel
# benchmarks, `resnorm bench --backend cuda` for gpt-tiny and gpt-small, and the PyTorch reference
# (eager, torch.compile) on the same GPU, writing everything under $OUT (bench/results/cuda when unset).
# Issue 11's stage `cnn`: cnn-digits train steps on CUDA (fp32, TF32) beside PyTorch's on the same GPU
# (bench/cuda/torch_cnn_bench.py: eager fp32, TF32, torch.compile), a 200-step GPU run's losses beside
# the CPU's, and a resumed GPU run (checkpoint with moments at step 100) against the uninterrupted one.
#
#   here, once:        bash bench/cuda/prepare-deps.sh      (Eigen/Catch2 headers into .deps, the text)
#   on the GPU box:    bash bench/cuda/run.sh               (carry .deps, web/public/data/tinyshakespeare.txt
#                                                             and web/public/data/digits.bin, which git ignores)
#
# STAGES (default "env build test ours kernels torch") picks stages; each has a time limit and its own log,
# and a failed stage does not stop the others. Results appear as they are made, so a run cut short
# still leaves what it measured. $OUT/summary.md is the side-by-side table; $OUT/status.txt the stages.
# Under a 10-minute limit per command, split it in two calls on the same warm machine (the build stays):
#   STAGES="env build test ours" bash bench/cuda/run.sh        (build ~2-4 min on 16 cores, tests ~1 min)
#   STAGES="kernels torch" bash bench/cuda/run.sh              (kernel benches ~2 min, PyTorch ~3-4 min)
#   STAGES="cnn" bash bench/cuda/run.sh                          (cnn-digits, ours and PyTorch's, ~2-3 min)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
OUT="${OUT:-$root/bench/results/cuda}"
mkdir -p "$OUT"
STAGES="${STAGES:-env build test ours cnn kernels torch}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 4)}"
PY="${PYTHON:-python3}"
build="$root/build/cuda"
data="$root/web/public/data/tinyshakespeare.txt"
export RESNORM_DATA="$data"
digits="$root/web/public/data/digits.bin"
touch "$OUT/status.txt"  # appended to by every call

note() { printf '%s\n' "$*" | tee -a "$OUT/status.txt"; }
stage() {  # stage NAME LIMIT_SECONDS COMMAND...
  local name="$1" limit="$2"; shift 2
  case " $STAGES " in *" $name "*) ;; *) return 0 ;; esac
  local t0=$SECONDS rc
  echo "=== $name (limit ${limit}s)"
  timeout --signal=TERM --kill-after=10 "$limit" "$@" > >(tee "$OUT/$name.log") 2>&1
  rc=$?
  note "$name: rc=$rc, $((SECONDS - t0)) s"
  return $rc
}

do_env() {
  date -u +%Y-%m-%dT%H:%M:%SZ
  git -C "$root" rev-parse HEAD 2>/dev/null || true
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1 || true
  nvcc --version 2>/dev/null | tail -1 || /usr/local/cuda/bin/nvcc --version | tail -1
  cmake --version | head -1
  ninja --version 2>/dev/null | sed 's/^/ninja /' || true
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 || true
  [ -f .deps/eigen3/Eigen/Core ] || echo "WARNING: .deps/eigen3 missing (bash bench/cuda/prepare-deps.sh here, then carry .deps)"
  [ -f .deps/catch2/catch.hpp ] || echo "WARNING: .deps/catch2 missing"
  [ -s "$data" ] || echo "WARNING: $data missing (carry it)"
  [ -s "$digits" ] || echo "WARNING: $digits missing (carry it: node scripts/make-digits.mjs builds it here)"
}

do_build() {
  local deps=()
  [ -f .deps/eigen3/Eigen/Core ] && deps+=("-DEIGEN3_INCLUDE_DIR=$root/.deps/eigen3")
  [ -f .deps/catch2/catch.hpp ] && deps+=("-DCATCH2_INCLUDE_DIR=$root/.deps")
  local nvcc=/usr/local/cuda/bin/nvcc
  [ -x "$nvcc" ] || nvcc="$(command -v nvcc)"
  if ! cmake --preset cuda -DCMAKE_CUDA_COMPILER="$nvcc" "${deps[@]}"; then
    echo "cmake --preset cuda failed (CMake older than 3.25?); configuring with the preset's variables"
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRESNORM_NATIVE_ARCH=ON -DRESNORM_CUDA=ON \
      -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="90-real;90-virtual" "${deps[@]}" || return 1
  fi
  cmake --build "$build" -j "$JOBS"
}

do_test() {
  local rc=0
  "$build/resnorm_cuda_tests" "[cuda]" --durations yes -r console || rc=1
  "$build/resnorm_cuda_tests" "[cuda]" -r junit -o "$OUT/cuda_tests.junit.xml" > /dev/null 2>&1 || true
  "$build/resnorm_tests" "[backend]" || rc=1
  return $rc
}

do_ours() {
  local rc=0 f="$OUT/ours.jsonl"
  : > "$f"
  for p in gpt-tiny gpt-small; do
    local steps=50; [ "$p" = gpt-small ] && steps=20
    "$build/resnorm" bench --backend cuda --preset "$p" --steps "$steps" --warmup 10 --json --data "$data" >> "$f" || rc=1
    "$build/resnorm" bench --backend cuda --preset "$p" --steps "$steps" --warmup 10 --json --data "$data" --tf32 >> "$f" || rc=1
  done
  # Without CUDA graphs (launch cost visible) and the CPU core on this machine's CPU, for reference.
  RESNORM_CUDA_GRAPHS=0 "$build/resnorm" bench --backend cuda --preset gpt-tiny --steps 50 --warmup 10 --data "$data" | sed 's/^/no graphs: /' || rc=1
  "$build/resnorm" bench --preset gpt-tiny --steps 10 --warmup 2 --data "$data" | sed 's/^/cpu: /' || true
  # A short training run on the GPU: losses beside a CPU run of the same preset and seed.
  "$build/resnorm" train --backend cuda --preset gpt-tiny --steps 200 --quiet --data "$data" --log "$OUT/train_gpu.jsonl" || rc=1
  "$build/resnorm" train --preset gpt-tiny --steps 200 --quiet --data "$data" --log "$OUT/train_cpu.jsonl" || true
  cat "$f"
  return $rc
}

do_cnn() {
  local rc=0 f="$OUT/cnn_ours.jsonl"
  : > "$f"
  "$build/resnorm" bench --backend cuda --preset cnn-digits --steps 50 --warmup 10 --json --data "$digits" >> "$f" || rc=1
  "$build/resnorm" bench --backend cuda --preset cnn-digits --steps 50 --warmup 10 --json --data "$digits" --tf32 >> "$f" || rc=1
  RESNORM_CUDA_GRAPHS=0 "$build/resnorm" bench --backend cuda --preset cnn-digits --steps 30 --warmup 5 --data "$digits" | sed 's/^/no graphs: /' || rc=1
  for p in cnn-plain-32 cnn-residual-32; do
    "$build/resnorm" bench --backend cuda --preset "$p" --steps 20 --warmup 5 --json --data "$digits" >> "$f" || rc=1
  done
  "$build/resnorm" bench --preset cnn-digits --steps 5 --warmup 1 --data "$digits" | sed 's/^/cpu: /' || true
  # 200 steps on the GPU and on the CPU: the losses side by side (the [cuda] tests hold them to 1e-3 over 10 steps).
  "$build/resnorm" train --backend cuda --preset cnn-digits --steps 200 --quiet --data "$digits" --log "$OUT/cnn_train_gpu.jsonl" || rc=1
  "$build/resnorm" train --preset cnn-digits --steps 200 --quiet --data "$digits" --log "$OUT/cnn_train_cpu.jsonl" || true
  # A resumed GPU run (checkpoint with the AdamW moments at step 100) against the uninterrupted one: same
  # losses. A constant learning rate, so that --steps (the schedule's length) does not change the steps.
  local ck="$OUT/cnn_gpu_100.safetensors" cf="$OUT/cnn_constant_lr.json"
  "${PYTHON:-python3}" -c 'import json,sys; c=json.load(open(sys.argv[1])); c["optim"]["schedule"]="constant"; json.dump(c, open(sys.argv[2], "w"))' \
    "$root/cpp/presets/cnn-digits.json" "$cf" || rc=1
  "$build/resnorm" train --backend cuda --config "$cf" --steps 200 --quiet --data "$digits" --log "$OUT/cnn_train_gpu_full.jsonl" || rc=1
  "$build/resnorm" train --backend cuda --config "$cf" --steps 100 --quiet --data "$digits" --save "$ck" || rc=1
  "$build/resnorm" train --backend cuda --config "$cf" --steps 200 --quiet --data "$digits" --load "$ck" \
    --log "$OUT/cnn_train_gpu_resumed.jsonl" || rc=1
  "${PYTHON:-python3}" - "$OUT/cnn_train_gpu_full.jsonl" "$OUT/cnn_train_gpu_resumed.jsonl" "$OUT/cnn_train_gpu.jsonl" \
    "$OUT/cnn_train_cpu.jsonl" <<'PY' || rc=1
import json, sys
def losses(p):
    return {r["step"]: r["loss"] for r in map(json.loads, open(p)) if "loss" in r and "step" in r}
full, resumed, gpu, cpu = (losses(p) for p in sys.argv[1:5])
same = [s for s in resumed if s in full]
diff = max((abs(full[s] - resumed[s]) for s in same), default=float("nan"))
print(f"resumed vs uninterrupted GPU run: {len(same)} common steps, max |loss difference| {diff:g} (want 0)")
common = [s for s in gpu if s in cpu]
print(f"GPU vs CPU (cnn-digits): {len(common)} steps, max |loss difference| {max(abs(gpu[s] - cpu[s]) for s in common):g}, "
      f"last-50 mean GPU {sum(gpu[s] for s in common[-50:]) / 50:.4f} CPU {sum(cpu[s] for s in common[-50:]) / 50:.4f}")
sys.exit(0 if same and diff == 0 else 1)
PY
  "${PYTHON:-python3}" "$root/bench/cuda/torch_cnn_bench.py" --presets cnn-digits --digits "$digits" \
    --out "$OUT/torch_cnn.json" --ours "$f" | tee "$OUT/cnn_summary.md" || rc=1
  cat "$f"
  return $rc
}

do_kernels() { bash "$root/cpp/cuda/kernels-bench/run.sh" "$OUT/kernels"; }

do_torch() {
  "$PY" "$root/bench/torch_gpu_bench.py" --out "$OUT/torch_gpu.json" --resnorm "$build/resnorm" \
    --ours "$OUT/ours.jsonl" --kernels "$OUT/kernels" --data "$data" | tee "$OUT/summary.md"
}

stage env 30 bash -c "$(declare -f do_env); root='$root'; data='$data'; PY='$PY'; do_env"
stage build 300 bash -c "$(declare -f do_build); root='$root'; build='$build'; JOBS='$JOBS'; cd '$root'; do_build" ||
  note "build failed: see $OUT/build.log"
if [ -x "$build/resnorm_cuda_tests" ]; then
  stage test 180 bash -c "$(declare -f do_test); build='$build'; OUT='$OUT'; do_test"
  stage ours 120 bash -c "$(declare -f do_ours); build='$build'; OUT='$OUT'; data='$data'; do_ours"
  stage cnn 360 bash -c "$(declare -f do_cnn); root='$root'; build='$build'; OUT='$OUT'; digits='$digits'; PYTHON='$PY'; do_cnn"
  stage kernels 150 bash -c "$(declare -f do_kernels); root='$root'; OUT='$OUT'; do_kernels"
fi
stage torch 270 bash -c "$(declare -f do_torch); root='$root'; build='$build'; OUT='$OUT'; data='$data'; PY='$PY'; do_torch"
echo "=== done; results in $OUT"
cat "$OUT/status.txt"

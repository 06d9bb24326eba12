#!/usr/bin/env bash
# Issue 11, ops: im2col + GEMM (the core's conv2d) against a direct conv at cnn-digits's shapes, natively and in
# wasm (Node), one thread, CPU time (bench/conv/conv_bench.cpp says why). Needs build/native (npm run
# build:native) and build/wasm (bash scripts/build-wasm.sh). Writes bench/results/conv.json.
# Usage: bash bench/conv/run.sh [REPS]   (default 15 timed calls per measurement)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
reps="${1:-15}"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || { echo "conv bench: REPS must be a positive integer, not '$reps'" >&2; exit 2; }
for a in build/native/libresnorm_core.a build/wasm/libresnorm_core.a; do
  [[ -f "$a" ]] || { echo "conv bench: $a is missing (npm run build:native; bash scripts/build-wasm.sh)" >&2; exit 1; }
done
out=build/conv-bench
mkdir -p "$out"
defs=(-DEIGEN_DONT_PARALLELIZE -DEIGEN_NO_DEBUG -DEIGEN_STACK_ALLOCATION_LIMIT=1048576 -Icpp/core -O3 -DNDEBUG -fno-math-errno -std=c++17)
# the flags the native and wasm presets compile cpp/core/ops/conv2d.cpp with (build/*/compile_commands.json)
c++ "${defs[@]}" -isystem /usr/include/eigen3 -march=native bench/conv/conv_bench.cpp build/native/libresnorm_core.a -o "$out/native"
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"  # Debian's emcc needs it (TOOLCHAIN.md)
# SINGLE_FILE: Emscripten 3.1.6 fetch()es a separate .wasm, and Node 20 has a fetch that takes no file paths
em++ "${defs[@]}" -DEIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS=16 -isystem cpp/wasm/simd-shim -isystem /usr/include/eigen3 \
  -mbulk-memory -msimd128 -msse4.1 -fexceptions bench/conv/conv_bench.cpp build/wasm/libresnorm_core.a \
  -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sSINGLE_FILE=1 -o "$out/wasm.cjs"
native_json=$("$out/native" "$reps")
wasm_json=$(node "$out/wasm.cjs" "$reps")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
load=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p bench/results
/usr/bin/python3 - "$cpu" "$load" "$native_json" "$wasm_json" <<'PY'
import json, sys, time
cpu, load, nat, wasm = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu, "load_average_at_end": load,
       "note": "CPU ms (thread CPU time natively, process.cpuUsage() in Node), [median, fastest] of the timed calls; "
               "native is g++ -O3 -march=native as the native preset, wasm is em++ -O3 -msimd128 as the wasm preset; "
               "step totals weight each shape by how often one cnn-digits step runs it",
       "native": nat, "wasm_node": wasm}
with open("bench/results/conv.json", "w") as f:
    json.dump(res, f, indent=1)
    f.write("\n")
print("| build | forward im2col | forward direct | backward im2col | backward direct |\n|---|---:|---:|---:|---:|")
for name, r in (("native", nat), ("wasm (Node)", wasm)):
    t = r["step_total_ms"]
    print(f"| {name} | {t['fwd']['im2col'][1]:.2f} | {t['fwd']['direct'][1]:.2f} | {t['bwd']['im2col'][1]:.2f} | {t['bwd']['direct'][1]:.2f} |")
print(f"(ms of CPU per cnn-digits step in its convs, fastest of the timed calls; {cpu}, load average {load}; wrote bench/results/conv.json)")
PY

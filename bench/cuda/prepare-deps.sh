#!/usr/bin/env bash
# Prepares what a GPU machine lacks (it has nvcc, CMake, ninja and PyTorch but no Debian packages and no
# network): Eigen and Catch2 headers in .deps/ and the training text, both git-ignored, to be carried
# along with the working tree. Run here, then on the GPU machine: bash bench/cuda/run.sh
#   carry: [".deps", "web/public/data/tinyshakespeare.txt"]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

eigen_src="${EIGEN3_SRC:-/usr/include/eigen3}"
catch_src="${CATCH2_SRC:-/usr/include/catch2}"
[ -f "$eigen_src/Eigen/Core" ] || { echo "prepare-deps: no Eigen at $eigen_src (apt-get install libeigen3-dev)" >&2; exit 1; }
[ -f "$catch_src/catch.hpp" ] || { echo "prepare-deps: no Catch2 at $catch_src (apt-get install catch2)" >&2; exit 1; }
mkdir -p .deps
rm -rf .deps/eigen3 .deps/catch2
cp -r "$eigen_src" .deps/eigen3
cp -r "$catch_src" .deps/catch2

text=web/public/data/tinyshakespeare.txt
if [ ! -s "$text" ]; then
  for c in "$root/../shared/data/tinyshakespeare.txt" /work/shared/data/tinyshakespeare.txt; do
    if [ -s "$c" ]; then mkdir -p "$(dirname "$text")"; cp "$c" "$text"; break; fi
  done
fi
[ -s "$text" ] || { echo "prepare-deps: $text is missing" >&2; exit 1; }
du -sh .deps "$text" | sed 's/^/prepare-deps: /'
echo "prepare-deps: carry .deps and $text to the GPU machine, then run: bash bench/cuda/run.sh"

// Sum of squares of floats: the per-block gradient, weight and update norms and the residual stream's RMS
// of every train step (trainer.cpp, model.cpp).
#pragma once
#include <cstddef>

namespace resnorm {

// Blocks of 64 elements: within a block, kLanes float partial sums (element i goes to lane i % kLanes),
// each block's lanes then added to kLanes double sums, combined pairwise in a fixed order; the tail after
// the last full block goes straight into the double sums. The order is written out in the source, so
// builds with the same arithmetic get the same value (the wasm build and native-sse; -march=native may
// fuse a square into its add). A block's float sums hold 8 squares each: relative error ~1e-6 at worst,
// what PyTorch's float norms give too. In double lanes throughout (until issue 13's GEMM work) this was
// 5% of a wasm 3 x 256 mlp step, f64x2 work on every element; float lanes do four elements an instruction.
// Defined in sum_squares.cpp, out of line: one copy of the loop and its overflow path instead of one
// per call site (the pthreads wasm build is within 1 KB of its size budget).
double sum_squares(const float* x, size_t n);

}  // namespace resnorm

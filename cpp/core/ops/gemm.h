// A small float GEMM with 128-bit vectors, for the builds without -march=native: WebAssembly SIMD and
// the native SSE4.1 build that is its bit-exact comparison point (issue 13, goal 3).
//
// Why not Eigen there: Eigen reaches wasm SIMD only through Emscripten's SSE emulation, and clang's wasm
// backend schedules its unrolled 8 x 4 kernel with ~30 vector values live at once; V8 has 16 xmm
// registers and spills. This kernel keeps 8 accumulators, 2 packed B vectors and one broadcast A value
// live (11 registers). Measured on the 2-core AMD EPYC of this project, CPU time, Node 20: 22-25 GFLOP/s
// against Eigen's 16-18 at the MLP and gpt-tiny shapes (bench/wasm/gemm_bench.cpp has the shapes).
// Natively with SSE4.1 the two are within 10% of each other; -march=native builds keep Eigen (AVX2/FMA,
// AVX-512: 1.4x faster than 128-bit vectors there).
//
// Arithmetic, the same in every build and for any split of the rows: every element of C is one running
// float sum over k in order, starting from 0, then added to C (or stored):  C[i,j] (+)= sum_k A[i,k] B[k,j]
// (for K > kGemmMaxDepth, one such sum per chunk of kGemmMaxDepth, added in order).
// The file is compiled without FMA contraction, so the product is rounded before the add. The result
// of an element depends on nothing but its row of A and its column of B: row chunks on the pool, tile
// positions and edge paths all give the same bits.
#pragma once
#include <cstddef>

namespace resnorm {

// Largest summed dimension the kernel takes in one pass (its packed B panel lives on the stack: 8 x K
// floats). A larger K is summed in chunks of kGemmMaxDepth: each chunk one ordered sum from 0, added to C
// in chunk order (the first stored unless accumulate).
constexpr int kGemmMaxDepth = 4096;

// C[M,N] (+)= A[M,K] B[K,N] with A(i,k) = A[i*a_row + k*a_col], B(k,j) = B[k*b_row + j*b_col] and C
// row-major with leading dimension ldc. accumulate: C += AB; otherwise C = AB.
void gemm(int M, int N, int K, const float* A, std::ptrdiff_t a_row, std::ptrdiff_t a_col, const float* B,
          std::ptrdiff_t b_row, std::ptrdiff_t b_col, float* C, std::ptrdiff_t ldc, bool accumulate);

}  // namespace resnorm

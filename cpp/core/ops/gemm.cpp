// The 128-bit GEMM of gemm.h. Blocking after the GotoBLAS / BLIS scheme (Goto & van de Geijn, "Anatomy
// of high-performance matrix multiplication", ACM TOMS 2008): B is packed panel by panel (8 columns,
// k-major, so the kernel reads it contiguously), a block of A rows stays in L2 while every panel passes
// over it, and a 4 x 8 register tile of C is computed over the whole K at once. Unlike BLIS, K is not
// split by the blocking (that would add C's partial sums in an order that depends on it); only a K beyond
// kGemmMaxDepth is cut, at multiples of kGemmMaxDepth, a property of the shape alone.
#include "gemm.h"

#include <algorithm>
#include <cstring>

#include "v4.h"

namespace resnorm {

namespace {

using simd::load;
using simd::splat;
using simd::store;
using simd::v4;

constexpr int kNr = 8;   // columns of a packed B panel (two vectors)
constexpr int kMr = 4;   // rows of a register tile (5 or 6: V8 spills, 15-30% slower, measured)
// Rows of A per block: as many as keep the block within 256 KB at this K (L2 is 1 MB a core on the Zen 4
// EPYC measured, 512 KB on Zen 3), at least 64. Each block packs every B panel again, so at small K
// (gpt-tiny's 128: 512 rows, not 64) bigger blocks save most of that packing: 4-14% in wasm at the
// bench:gemm shapes, measured against 64-row blocks.
constexpr int kBlockFloats = 65536;
inline int rows_per_block(int K) { return std::max(64, (kBlockFloats / std::max(K, 1)) / kMr * kMr); }

// C[0..MR, 0..4*NV) (+)= A rows [MR, K] x the packed panel [K, 4*NV]; only the first `cols` columns
// of C are written (the panel's padding columns are zeros and are dropped).
template <int MR, int NV>
inline void tile(int K, const float* a, std::ptrdiff_t a_row, std::ptrdiff_t a_col, const float* panel, float* c,
                 std::ptrdiff_t ldc, int cols, bool accumulate) {
  v4 acc[MR][NV];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = splat(0.0f);
  const float* ar[MR];  // one pointer a row: clang's wasm output otherwise recomputes r * a_row every k
  for (int r = 0; r < MR; ++r) ar[r] = a + r * a_row;
  for (int k = 0; k < K; ++k, panel += 4 * NV) {
    v4 b[NV];
    for (int v = 0; v < NV; ++v) b[v] = load(panel + 4 * v);
    for (int r = 0; r < MR; ++r) {
      const v4 x = splat(*ar[r]);
      ar[r] += a_col;
      for (int v = 0; v < NV; ++v) acc[r][v] += x * b[v];
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (cols == 4 * NV) {
      for (int v = 0; v < NV; ++v) store(cr + 4 * v, accumulate ? load(cr + 4 * v) + acc[r][v] : acc[r][v]);
    } else {
      float t[4 * NV];
      for (int v = 0; v < NV; ++v) store(t + 4 * v, acc[r][v]);
      for (int j = 0; j < cols; ++j) cr[j] = accumulate ? cr[j] + t[j] : t[j];
    }
  }
}

// Rows [0, M) of A against one packed panel of width 4*NV, `cols` of its columns real.
template <int NV>
void rows_by_panel(int M, int K, const float* a, std::ptrdiff_t a_row, std::ptrdiff_t a_col, const float* panel, float* c,
                   std::ptrdiff_t ldc, int cols, bool accumulate) {
  int i = 0;
  for (; i + kMr <= M; i += kMr)
    tile<kMr, NV>(K, a + i * a_row, a_row, a_col, panel, c + i * ldc, ldc, cols, accumulate);
  for (; i < M; ++i) tile<1, NV>(K, a + i * a_row, a_row, a_col, panel, c + i * ldc, ldc, cols, accumulate);
}

// Packs columns [j0, j0 + cols) of B into panel[k * width + j], zero beyond `cols`.
void pack_panel(float* panel, int width, int K, const float* B, std::ptrdiff_t b_row, std::ptrdiff_t b_col, int j0, int cols) {
  const float* b = B + j0 * b_col;
  if (b_col == 1 && cols == width) {
    for (int k = 0; k < K; ++k) std::memcpy(panel + k * width, b + k * b_row, sizeof(float) * static_cast<size_t>(width));
    return;
  }
  int k0 = 0;
  if (b_row == 1 && cols == width) {
    // B^T stored row-major (a linear layer's weight, attention's K and V): each panel column is contiguous
    // in k. Four columns x four k at a time, as a 4 x 4 transpose in registers; element by element this
    // gather cost as much as the products themselves at the small shapes (mlp-spiral's 32 x 32).
    for (; k0 + 4 <= K; k0 += 4)
      for (int j = 0; j < width; j += 4) {
        const float* col = b + j * b_col + k0;
        const v4 c0 = load(col), c1 = load(col + b_col), c2 = load(col + 2 * b_col), c3 = load(col + 3 * b_col);
        const v4 lo01 = __builtin_shufflevector(c0, c1, 0, 4, 1, 5), hi01 = __builtin_shufflevector(c0, c1, 2, 6, 3, 7);
        const v4 lo23 = __builtin_shufflevector(c2, c3, 0, 4, 1, 5), hi23 = __builtin_shufflevector(c2, c3, 2, 6, 3, 7);
        float* p = panel + k0 * width + j;
        store(p, __builtin_shufflevector(lo01, lo23, 0, 1, 4, 5));
        store(p + width, __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7));
        store(p + 2 * width, __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5));
        store(p + 3 * width, __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7));
      }
  }
  for (int k = k0; k < K; ++k)
    for (int j = 0; j < width; ++j) panel[k * width + j] = j < cols ? b[k * b_row + j * b_col] : 0.0f;
}

// The product over one chunk of the summed dimension, K <= kGemmMaxDepth.
void gemm_chunk(int M, int N, int K, const float* A, std::ptrdiff_t a_row, std::ptrdiff_t a_col, const float* B,
                std::ptrdiff_t b_row, std::ptrdiff_t b_col, float* C, std::ptrdiff_t ldc, bool accumulate) {
  alignas(64) float panel[kNr * kGemmMaxDepth];
  const int block = rows_per_block(K);
  for (int i0 = 0; i0 < M; i0 += block) {
    const int mc = std::min(block, M - i0);
    const float* a = A + i0 * a_row;
    float* c = C + i0 * ldc;
    for (int j0 = 0; j0 < N; j0 += kNr) {
      const int cols = std::min(kNr, N - j0);
      if (cols > 4) {
        pack_panel(panel, 8, K, B, b_row, b_col, j0, cols);
        rows_by_panel<2>(mc, K, a, a_row, a_col, panel, c + j0, ldc, cols, accumulate);
      } else {  // the last few columns: a one-vector panel wastes less on padding (N = 2 classes, say)
        pack_panel(panel, 4, K, B, b_row, b_col, j0, cols);
        rows_by_panel<1>(mc, K, a, a_row, a_col, panel, c + j0, ldc, cols, accumulate);
      }
    }
  }
}

}  // namespace

void gemm(int M, int N, int K, const float* A, std::ptrdiff_t a_row, std::ptrdiff_t a_col, const float* B,
          std::ptrdiff_t b_row, std::ptrdiff_t b_col, float* C, std::ptrdiff_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  // A deeper sum (a conv's weight gradient sums over every output position: 12,544 at cnn-digits) runs in
  // chunks of kGemmMaxDepth, each chunk's sum added to C in order. K = 0 still stores zeros.
  for (int k0 = 0; k0 == 0 || k0 < K; k0 += kGemmMaxDepth)
    gemm_chunk(M, N, std::min(kGemmMaxDepth, K - k0), A + k0 * a_col, a_row, a_col, B + k0 * b_row, b_row, b_col, C,
               ldc, accumulate || k0 > 0);
}

}  // namespace resnorm

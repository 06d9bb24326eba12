// The 128-bit GEMM of gemm.h. Blocking after the GotoBLAS / BLIS scheme (Goto & van de Geijn, "Anatomy
// of high-performance matrix multiplication", ACM TOMS 2008): B is packed panel by panel (8 columns,
// k-major, so the kernel reads it contiguously), a block of A rows stays in L2 while every panel passes
// over it, and a 4 x 8 register tile of C is computed over the whole K at once. Unlike BLIS, K is never
// split: a split would add C's partial sums in an order that depends on the blocking.
#include "gemm.h"

#include <algorithm>
#include <cstring>

namespace resnorm {

namespace {

// GCC and clang vector extensions: SSE on x86, simd128 on wasm, the same IEEE float operations.
typedef float v4 __attribute__((vector_size(16)));

inline v4 load(const float* p) {
  v4 v;
  std::memcpy(&v, p, sizeof v);  // an unaligned load (movups / v128.load)
  return v;
}
inline void store(float* p, v4 v) { std::memcpy(p, &v, sizeof v); }
inline v4 splat(float x) { return v4{x, x, x, x}; }

constexpr int kNr = 8;   // columns of a packed B panel (two vectors)
constexpr int kMr = 4;   // rows of a register tile
constexpr int kMc = 64;  // rows of A per block (64 x K floats: within L2 for K <= 2048)

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
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < width; ++j) panel[k * width + j] = j < cols ? b[k * b_row + j * b_col] : 0.0f;
}

}  // namespace

void gemm(int M, int N, int K, const float* A, std::ptrdiff_t a_row, std::ptrdiff_t a_col, const float* B,
          std::ptrdiff_t b_row, std::ptrdiff_t b_col, float* C, std::ptrdiff_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  alignas(64) float panel[kNr * kGemmMaxDepth];
  for (int i0 = 0; i0 < M; i0 += kMc) {
    const int mc = std::min(kMc, M - i0);
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

}  // namespace resnorm

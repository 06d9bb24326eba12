// Linear layer, forward and backward. The matrix products go through Eigen's GEMM (-march=native builds)
// or the 128-bit GEMM of gemm.h (wasm, native-sse), whose every element is one ordered sum; with more than
// one thread each product is cut along independent rows of its result (batch rows for out and din,
// output channels for dw), never along the summed dimension.
//
// Why a row chunk computes the same bits as the whole (checked by [threads] tests): a row-major
// product here is Eigen's column-major GEMM on the transposes, and our rows are its columns. Eigen
// blocks the summed dimension by a kc that depends on that dimension alone; every element of a
// column gets the same kernel path, chosen by its row's position and its column's membership of
// a 4-column panel. Chunks start at multiples of 16 rows and hold at least 32, so panels line up
// with the whole's and Eigen never takes its small-matrix or matrix-vector path for a chunk.
#include <algorithm>

#include "eigen_maps.h"
#include "gemm.h"
#include "ops.h"
#include "../parallel.h"

namespace resnorm {

namespace {
// body(r0, n) over row chunks of a [rows, cols] result summed over `depth`. At cols == 1 Eigen takes
// its matrix-vector path, whose row blocking differs, so such products stay whole.
template <class Body>
void for_row_chunks(int rows, int cols, int depth, const Body& body) {
  parallel_rows(rows, cols > 1 ? static_cast<double>(cols) * depth : 0.0, body);
}
// db[o] += the sum of dout[n, o] over the rows n, each column one running sum taken in row order and
// then added to db. The rows are read whole (contiguous), the columns in blocks of 64 on the stack;
// Eigen's colwise() sum of this row-major map walked each column with a stride and evaluated into a
// heap temporary. Column chunks run on the pool; a column's order never changes, so neither do its bits.
void bias_backward(float* db, const float* dout, int N, int OC) {
  if (N <= 0) return;
  parallel_rows(OC, static_cast<double>(N), [&](int o0, int n) {
    constexpr int kBlock = 64;
    float acc[kBlock];
    for (int c0 = o0; c0 < o0 + n; c0 += kBlock) {
      const int w = std::min(kBlock, o0 + n - c0);
      for (int j = 0; j < w; ++j) acc[j] = dout[c0 + j];
      for (int r = 1; r < N; ++r) {
        const float* row = dout + static_cast<size_t>(r) * OC + c0;
        for (int j = 0; j < w; ++j) acc[j] += row[j];
      }
      for (int j = 0; j < w; ++j) db[c0 + j] += acc[j];
    }
  });
}

// Builds without -march=native (wasm, native-sse) take the 128-bit GEMM of gemm.h for every product, faster
// than Eigen's in wasm; a sum over more than kGemmMaxDepth rows (a conv's weight gradient: 12,544 positions
// at cnn-digits) is cut at multiples of kGemmMaxDepth, a property of the shapes alone, so every row chunk of
// a product takes the same path.
#ifdef RESNORM_PORTABLE_GEMM
constexpr bool kPortable = true;
#else
constexpr bool kPortable = false;
#endif
}  // namespace

void linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC) {
  for_row_chunks(N, OC, IC, [&](int r0, int n) {
    MapMat y(out + static_cast<size_t>(r0) * OC, n, OC);
    if (kPortable)
      gemm(n, OC, IC, in + static_cast<size_t>(r0) * IC, IC, 1, w, 1, IC, y.data(), OC, false);
    else
      y.noalias() = CMapMat(in + static_cast<size_t>(r0) * IC, n, IC) * CMapMat(w, OC, IC).transpose();
    if (b) y.rowwise() += CMapRow(b, OC);
  });
}

void linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w, int N,
                     int IC, int OC) {
  if (din)
    for_row_chunks(N, IC, OC, [&](int r0, int n) {
      if (kPortable)
        gemm(n, IC, OC, dout + static_cast<size_t>(r0) * OC, OC, 1, w, IC, 1, din + static_cast<size_t>(r0) * IC, IC, true);
      else
        MapMat(din + static_cast<size_t>(r0) * IC, n, IC).noalias() +=
            CMapMat(dout + static_cast<size_t>(r0) * OC, n, OC) * CMapMat(w, OC, IC);
    });
  // dw[o, :] sums over all N rows: split its rows o (output channels), each keeping the whole sum.
  CMapMat dy(dout, N, OC);
  for_row_chunks(OC, IC, N, [&](int o0, int n) {
    if (kPortable)  // dy^T: row o of the product reads column o of dout
      gemm(n, IC, N, dout + o0, 1, OC, in, IC, 1, dw + static_cast<size_t>(o0) * IC, IC, true);
    else
      MapMat(dw + static_cast<size_t>(o0) * IC, n, IC).noalias() += dy.middleCols(o0, n).transpose() * CMapMat(in, N, IC);
  });
  if (db) bias_backward(db, dout, N, OC);
}

}  // namespace resnorm

// The 128-bit GEMM (cpp/core/ops/gemm.h) that the linear layers use in wasm and native-sse builds: every
// element must be the ordered float sum it promises, bit for bit, in every layout the layers use and at
// every edge (rows not a multiple of the 4-row tile, columns not a multiple of the 8-column panel), and
// a chunk of rows must give exactly the whole's rows (the pool splits products that way).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "ops/gemm.h"
#include "testing.h"

using resnorm::gemm;
using resnorm_test::random_vec;

namespace {

struct Layout {
  const char* name;
  // strides of A(i,k) and B(k,j) for an [M,K] x [K,N] product, as linear.cpp passes them
  std::ptrdiff_t a_row, a_col, b_row, b_col;
};

// The three products of a linear layer: y = x W^T (B read transposed), dx += dy W (both row-major),
// dW += dy^T x (A read down the columns of dy).
std::vector<Layout> layouts(int M, int N, int K) {
  return {{"x W^T", K, 1, 1, K}, {"dy W", K, 1, N, 1}, {"dy^T x", 1, M, N, 1}};
}

// C[i,j] (+)= sum_k A(i,k) B(k,j): one float running sum from 0 in k order, each product rounded
// (volatile keeps the compiler from fusing it into the add), then added to C; past kGemmMaxDepth, one
// such sum per chunk of kGemmMaxDepth, each added to C in turn.
void reference(int M, int N, int K, const float* A, const Layout& l, const float* B, float* C, std::ptrdiff_t ldc, bool acc) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j)
      for (int k0 = 0; k0 == 0 || k0 < K; k0 += resnorm::kGemmMaxDepth) {
        float s = 0.0f;
        for (int k = k0; k < std::min(K, k0 + resnorm::kGemmMaxDepth); ++k) {
          volatile float p = A[i * l.a_row + k * l.a_col] * B[k * l.b_row + j * l.b_col];
          s = s + p;
        }
        C[i * ldc + j] = acc || k0 > 0 ? C[i * ldc + j] + s : s;
      }
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("the 128-bit GEMM is the ordered float sum, bit for bit, at every edge and layout", "[ops][gemm]") {
  // {300, 12, 600}: several row blocks (gemm.cpp sizes them by K); {6, 10, 9000}: a sum cut in three chunks
  const int dims[][3] = {{1, 1, 1},    {4, 8, 16}, {5, 9, 3},   {3, 2, 7},     {7, 13, 1},     {64, 2, 256},
                         {70, 20, 33}, {33, 4, 5}, {2, 5, 0},   {66, 130, 64}, {9, 12, 100},   {300, 12, 600},
                         {6, 10, 9000}};
  uint64_t seed = 1;
  for (const auto& d : dims) {
    const int M = d[0], N = d[1], K = d[2];
    for (const Layout& l : layouts(M, N, K)) {
      for (bool acc : {false, true}) {
        INFO(l.name << " M=" << M << " N=" << N << " K=" << K << " accumulate=" << acc);
        const std::ptrdiff_t ldc = N + 3;  // columns beyond N must stay untouched
        const auto A = random_vec(static_cast<size_t>(M) * K, ++seed), B = random_vec(static_cast<size_t>(K) * N, ++seed);
        auto C = random_vec(static_cast<size_t>(M) * ldc, ++seed);
        auto want = C;
        gemm(M, N, K, A.data(), l.a_row, l.a_col, B.data(), l.b_row, l.b_col, C.data(), ldc, acc);
        reference(M, N, K, A.data(), l, B.data(), want.data(), ldc, acc);
        int wrong = 0;
        double worst = 0.0;
        for (size_t i = 0; i < C.size(); ++i) {
          wrong += !same_bits(C[i], want[i]);
          worst = std::max(worst, static_cast<double>(std::fabs(C[i] - want[i])));
        }
        CHECK(wrong == 0);
        CHECK(worst == 0.0);
        // And the sum is the product: within float rounding of a double evaluation.
        if (acc) continue;
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < N; ++j) {
            double s = 0.0, mag = 0.0;
            for (int k = 0; k < K; ++k) {
              const double p = static_cast<double>(A[i * l.a_row + k * l.a_col]) * B[k * l.b_row + j * l.b_col];
              s += p;
              mag += std::fabs(p);
            }
            REQUIRE(std::fabs(C[i * ldc + j] - s) <= 1e-6 * (mag + 1.0) * (K + 1));
          }
      }
    }
  }
}

TEST_CASE("a chunk of rows of the 128-bit GEMM gives exactly the whole's rows", "[ops][gemm][threads]") {
  const int M = 96, N = 37, K = 50;
  for (const Layout& l : layouts(M, N, K)) {
    INFO(l.name);
    const auto A = random_vec(static_cast<size_t>(M) * K, 7), B = random_vec(static_cast<size_t>(K) * N, 8);
    std::vector<float> whole(static_cast<size_t>(M) * N, 0.0f), parts = whole;
    gemm(M, N, K, A.data(), l.a_row, l.a_col, B.data(), l.b_row, l.b_col, whole.data(), N, false);
    // Chunks at odd offsets and sizes: tiles and edge paths fall elsewhere than in the whole.
    for (int r0 : {0, 3, 10, 45, 67}) {
      const int r1 = r0 == 0 ? 3 : r0 == 3 ? 10 : r0 == 10 ? 45 : r0 == 45 ? 67 : M;
      gemm(r1 - r0, N, K, A.data() + r0 * l.a_row, l.a_row, l.a_col, B.data(), l.b_row, l.b_col,
           parts.data() + static_cast<size_t>(r0) * N, N, false);
    }
    int wrong = 0;
    for (size_t i = 0; i < whole.size(); ++i) wrong += !same_bits(whole[i], parts[i]);
    CHECK(wrong == 0);
  }
}

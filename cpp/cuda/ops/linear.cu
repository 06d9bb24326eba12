// Linear layer on the GPU (mirrors cpp/core/ops/linear.cpp): cuBLAS fp32 GEMMs (TF32 tensor cores
// only when Ctx::tf32). Our buffers are row-major; cuBLAS is column-major, so a row-major X[r,c] is
// handed over as the column-major X^T[c,r] with the same leading dimension, and
//   out[N,OC] = in[N,IC] w[OC,IC]^T   is   out^T[OC,N] = op_T(w^T[IC,OC]) in^T[IC,N]   (m=OC, n=N, k=IC)
//   din[N,IC] += dout[N,OC] w         is   din^T[IC,N] += w^T[IC,OC] dout^T[OC,N]       (m=IC, n=N, k=OC)
//   dw[OC,IC] += dout^T in            is   dw^T[IC,OC] += in^T[IC,N] op_T(dout^T[OC,N]) (m=IC, n=OC, k=N)
//   db[OC]    += column sums of dout  is   a GEMV of dout^T[OC,N] with a vector of ones.
// The forward uses cuBLASLt with its bias epilogue (out = in w^T + b in one pass, as llm.c does), with
// cublasGemmEx plus a bias kernel as the fallback. (cuBLAS documentation: "cublasLtMatmul", "cublasGemmEx".)
#include <algorithm>
#include <cstdint>
#include <string>

#include "caches.h"
#include "common.cuh"
#include "cuda_ops.h"
#include "error.h"

namespace resnorm {
namespace cuda {

namespace {

cublasComputeType_t compute_type(const Ctx& ctx) { return ctx.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F; }

__global__ void bias_add_kernel(float* out, const float* b, int N, int OC) {
  const size_t n = static_cast<size_t>(N) * OC;
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] += b[i % OC];
}

// Largest power of two (up to 256) that divides the address: cuBLASLt picks algorithms by alignment.
uint32_t alignment(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 4 && (a % al) != 0) al >>= 1;
  return al;
}

LtPlan* lt_plan(const float* out, const float* in, const float* w, const float* b, int N, int IC, int OC, Ctx& ctx) {
  const uint32_t aw = alignment(w), ai = alignment(in), ao = alignment(out), ab = b ? alignment(b) : 0;
  const std::string key = std::to_string(N) + "," + std::to_string(IC) + "," + std::to_string(OC) + "," +
                          std::to_string(ab) + "," + std::to_string(aw) + "," + std::to_string(ai) + "," +
                          std::to_string(ao) + (ctx.tf32 ? ",tf32" : "");
  auto it = ctx.caches->lt.find(key);
  if (it != ctx.caches->lt.end()) return &it->second;
  if (ctx.capturing) return nullptr;  // never plan inside a graph capture: fall back for this call
  LtPlan& p = ctx.caches->lt[key];
  auto ok = [](cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; };
  bool good = ok(cublasLtMatmulDescCreate(&p.op, compute_type(ctx), CUDA_R_32F));
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  good = good && ok(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  good = good && ok(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  if (b) {
    const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    good = good && ok(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
    good = good && ok(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b));
  }
  good = good && ok(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_32F, IC, OC, IC));  // w^T, transposed by TRANSA
  good = good && ok(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_32F, IC, N, IC));   // in^T
  good = good && ok(cublasLtMatrixLayoutCreate(&p.c, CUDA_R_32F, OC, N, OC));   // out^T
  cublasLtMatmulPreference_t pref = nullptr;
  good = good && ok(cublasLtMatmulPreferenceCreate(&pref));
  if (good) {
    const size_t ws = ctx.workspace_bytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &aw, sizeof aw);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &ai, sizeof ai);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &ao, sizeof ao);
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &ao, sizeof ao);
    cublasLtMatmulHeuristicResult_t res{};
    int count = 0;
    good = ok(cublasLtMatmulAlgoGetHeuristic(ctx.lt, p.op, p.a, p.b, p.c, p.c, pref, 1, &res, &count)) && count > 0;
    if (good) p.algo = res.algo;
  }
  if (pref) cublasLtMatmulPreferenceDestroy(pref);
  p.ok = good;
  return &p;
}

void gemm_forward(float* out, const float* in, const float* w, int N, int IC, int OC, Ctx& ctx) {
  const float one = 1.0f, zero = 0.0f;
  RESNORM_CUDA_CHECK(cublasGemmEx(ctx.blas, CUBLAS_OP_T, CUBLAS_OP_N, OC, N, IC, &one, w, CUDA_R_32F, IC, in,
                                  CUDA_R_32F, IC, &zero, out, CUDA_R_32F, OC, compute_type(ctx), CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC, Ctx& ctx) {
  if (N <= 0) return;
  if (ctx.lt_bias && ctx.caches) {
    LtPlan* p = lt_plan(out, in, w, b, N, IC, OC, ctx);
    if (p && p->ok) {
      const float one = 1.0f, zero = 0.0f;
      if (b) RESNORM_CUDA_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b));
      const cublasStatus_t s = cublasLtMatmul(ctx.lt, p->op, &one, w, p->a, in, p->b, &zero, out, p->c, out, p->c,
                                              &p->algo, ctx.workspace, ctx.workspace_bytes, ctx.stream);
      if (s == CUBLAS_STATUS_SUCCESS) return;
      p->ok = false;  // not supported after all: use the plain GEMM from now on
    }
  }
  gemm_forward(out, in, w, N, IC, OC, ctx);
  if (b) {
    const size_t n = static_cast<size_t>(N) * OC;
    const int grid = std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 16 * ctx.sms));
    bias_add_kernel<<<grid, 256, 0, ctx.stream>>>(out, b, N, OC);
    RESNORM_CHECK_LAUNCH("bias_add");
  }
}

void linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w, int N,
                     int IC, int OC, Ctx& ctx) {
  if (N <= 0) return;
  const float one = 1.0f;
  if (din)
    RESNORM_CUDA_CHECK(cublasGemmEx(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_N, IC, N, OC, &one, w, CUDA_R_32F, IC, dout,
                                    CUDA_R_32F, OC, &one, din, CUDA_R_32F, IC, compute_type(ctx), CUBLAS_GEMM_DEFAULT));
  RESNORM_CUDA_CHECK(cublasGemmEx(ctx.blas, CUBLAS_OP_N, CUBLAS_OP_T, IC, OC, N, &one, in, CUDA_R_32F, IC, dout,
                                  CUDA_R_32F, OC, &one, dw, CUDA_R_32F, IC, compute_type(ctx), CUBLAS_GEMM_DEFAULT));
  if (db) {
    if (ctx.ones_len < static_cast<size_t>(N)) throw Error("linear_backward: the ones vector is shorter than N");
    RESNORM_CUDA_CHECK(cublasSgemv(ctx.blas, CUBLAS_OP_N, OC, N, &one, dout, OC, ctx.ones, 1, &one, db, 1));
  }
}

}  // namespace cuda
}  // namespace resnorm

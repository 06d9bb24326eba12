// Error checks, the ops' caches and the scratch size they need.
#include <algorithm>
#include <string>

#include "cuda_ops.h"
#include "caches.h"
#include "common.cuh"
#include "error.h"
#include "norm_kernels.cuh"

namespace resnorm {
namespace cuda {

void check(cudaError_t e, const char* what, const char* file, int line) {
  if (e == cudaSuccess) return;
  throw Error(std::string("cuda: ") + what + " failed: " + cudaGetErrorString(e) + " (" + file + ":" +
              std::to_string(line) + ")");
}

void check(cublasStatus_t e, const char* what, const char* file, int line) {
  if (e == CUBLAS_STATUS_SUCCESS) return;
  throw Error(std::string("cublas: ") + what + " failed: " + cublasGetStatusString(e) + " (" + file + ":" +
              std::to_string(line) + ")");
}

void check_launch(const char* kernel, const char* file, int line) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw Error(std::string("cuda: launch of ") + kernel + " failed: " + cudaGetErrorString(e) + " (" + file + ":" +
                std::to_string(line) + ")");
}

Caches* create_caches() { return new Caches(); }

void destroy_caches(Caches* c) {
  if (!c) return;
  for (auto& kv : c->lt) {
    if (kv.second.a) cublasLtMatrixLayoutDestroy(kv.second.a);
    if (kv.second.b) cublasLtMatrixLayoutDestroy(kv.second.b);
    if (kv.second.c) cublasLtMatrixLayoutDestroy(kv.second.c);
    if (kv.second.op) cublasLtMatmulDescDestroy(kv.second.op);
  }
  for (auto& kv : c->att_ptrs) cudaFree(kv.second);
  delete c;
}

// The largest need of any single op (they run one after another on one stream and share the scratch):
// norm-backward partials, attention's dS [B,H,T,T], the per-chunk partials of the reductions and the
// optimiser (2 doubles per chunk), the entropy partials (B*H doubles), the residual's ReZero partials.
size_t scratch_floats_needed(const ModelConfig& cfg, int rows, int vocab, int sms, size_t nchunks) {
  (void)vocab;
  size_t need = norm_bwd_partial_floats(rows, cfg.width, sms);
  if (cfg.kind == ModelKind::Gpt) {
    need = std::max(need, static_cast<size_t>(rows) * cfg.heads * cfg.context);
    need = std::max(need, 2 * static_cast<size_t>(rows) * cfg.heads);  // entropy partials (double), B*H <= rows*H
  }
  need = std::max(need, 4 * nchunks + 64);      // chunk partials (2 doubles each)
  need = std::max(need, 2 * static_cast<size_t>(8 * sms) + 64);  // residual ReZero partials (double)
  return need;
}

}  // namespace cuda
}  // namespace resnorm

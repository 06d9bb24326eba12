// Per-device-context caches of the ops: cuBLASLt matmul descriptors with their chosen algorithm
// (one per GEMM shape and pointer alignment) and the device arrays of per-(batch, head) pointers the
// batched attention GEMMs read. Both are filled on a step's first, eager run, so a CUDA graph capture
// later finds everything prepared.
#pragma once
#include <cublasLt.h>

#include <map>
#include <string>

namespace resnorm {
namespace cuda {

struct LtPlan {
  bool ok = false;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

struct Caches {
  std::map<std::string, LtPlan> lt;
  std::map<std::string, void*> att_ptrs;  // device memory
};

}  // namespace cuda
}  // namespace resnorm

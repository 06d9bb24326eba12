// The CUDA backend's entry points for the CLI, tests and benchmarks: device query, the check that a
// config fits the device's memory (made before anything is allocated), and the factory of a
// BackendTrainer running on DeviceOps (CUDA kernels + cuBLAS). Pure C++ header.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "exec/backend_trainer.h"
#include "config.h"
#include "exec/model_ops.h"

namespace resnorm {

struct CudaOptions {
  int device = 0;
  bool tf32 = false;     // TF32 tensor cores for the matrix products (default: plain fp32)
  bool graphs = true;    // record each train step once as a CUDA graph and replay it
  bool lt_bias = true;   // cuBLASLt bias epilogue for Linear forward
};

struct CudaDeviceInfo {
  int count = 0;        // CUDA devices visible
  std::string name;     // of the chosen device
  size_t free_bytes = 0, total_bytes = 0;
  int sms = 0, cc_major = 0, cc_minor = 0;
  std::string error;    // why there is no usable device, if so
  bool present() const { return count > 0 && error.empty(); }
};

// Never throws; count == 0 and error set when there is no driver or no device.
CudaDeviceInfo cuda_device_info(int device = 0);

// Output classes of a config: characters of the text (or the given vocabulary) for gpt, 2 for mlp.
int backend_vocab(const Config& cfg, const std::string& text, const std::string& vocab);
// Device bytes a CUDA trainer allocates for this config (exact blocks plus the ops' scratch).
size_t cuda_bytes_needed(const Config& cfg, int vocab, int sms);
// Throws Error naming the need, the device and its free memory when the config does not fit.
void check_fits_device(const Config& cfg, int vocab, const CudaDeviceInfo& dev);

std::unique_ptr<ModelOps> make_device_ops(const CudaOptions& opts = {});
// Checks the device and the memory first; throws Error with a clear message when either is missing.
std::unique_ptr<BackendTrainer> make_cuda_trainer(const Config& cfg, const std::string& text,
                                                  const std::string& vocab = "", const CudaOptions& opts = {});
// Bytes of device memory the ops have allocated now / at most (0 for other ops).
size_t device_bytes_allocated(const ModelOps& ops);
size_t device_bytes_peak(const ModelOps& ops);

}  // namespace resnorm

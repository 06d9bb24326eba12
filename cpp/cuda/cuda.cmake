# CUDA backend (cpp/cuda): kernels, the backend model/trainer, the [cuda] tests and the kernel
# benchmarks. Included from CMakeLists.txt when RESNORM_CUDA is ON (the `cuda` preset). Builds on a
# machine without a GPU; the device tests then report themselves skipped.
if(NOT CMAKE_CUDA_COMPILER)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
if(NOT CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual")  # H100/H200 code + PTX that newer GPUs JIT-compile
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
if(CCACHE_PROGRAM)
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

set(RESNORM_CUDA_DIR "${CMAKE_SOURCE_DIR}/cpp/cuda")

# Kernels: CUDA sources only. They see the core's headers but not its compile options (-march=native
# is a host-compiler flag nvcc does not take), and they contain no Eigen.
add_library(resnorm_cuda_kernels STATIC
  cpp/cuda/ops/common.cu cpp/cuda/ops/linear.cu cpp/cuda/ops/embedding.cu cpp/cuda/ops/layernorm.cu
  cpp/cuda/ops/rmsnorm.cu cpp/cuda/ops/residual.cu cpp/cuda/ops/activation.cu cpp/cuda/ops/attention.cu
  cpp/cuda/ops/cross_entropy.cu cpp/cuda/ops/diagnostics.cu cpp/cuda/ops/optimizer.cu
  cpp/cuda/ops/batchnorm.cu cpp/cuda/ops/conv2d.cu cpp/cuda/ops/pool.cu)
target_include_directories(resnorm_cuda_kernels PUBLIC "${RESNORM_CUDA_DIR}" "${CMAKE_SOURCE_DIR}/cpp/core"
                           PRIVATE "${RESNORM_CUDA_DIR}/ops")
target_compile_options(resnorm_cuda_kernels PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)
target_link_libraries(resnorm_cuda_kernels PUBLIC CUDA::cudart CUDA::cublas CUDA::cublasLt)

# The backend: DeviceOps (host C++ that launches the kernels); the plan executor and trainer it runs
# under are the core's (cpp/core/exec).
add_library(resnorm_cuda STATIC cpp/cuda/device_ops.cpp)
target_include_directories(resnorm_cuda PUBLIC "${RESNORM_CUDA_DIR}")
target_link_libraries(resnorm_cuda PUBLIC resnorm_core resnorm_cuda_kernels)
target_compile_options(resnorm_cuda PRIVATE -Wall -Wextra)

if(TARGET resnorm)
  target_link_libraries(resnorm PRIVATE resnorm_cuda)
  target_compile_definitions(resnorm PRIVATE RESNORM_WITH_CUDA=1)
endif()

if(RESNORM_BUILD_TESTS)
  file(GLOB cuda_test_sources CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/tests/cuda/*.cpp")
  add_executable(resnorm_cuda_tests ${cuda_test_sources})
  target_link_libraries(resnorm_cuda_tests PRIVATE resnorm_cuda catch2_headers)
  target_compile_definitions(resnorm_cuda_tests PRIVATE
    RESNORM_SOURCE_DIR="${CMAKE_SOURCE_DIR}" RESNORM_DATA_DIR="${CMAKE_SOURCE_DIR}/web/public/data")
  # [cuda]: needs a GPU; without one the executable says so and exits 77, which ctest reports as skipped.
  add_test(NAME cuda COMMAND resnorm_cuda_tests "[cuda]")
  set_tests_properties(cuda PROPERTIES SKIP_RETURN_CODE 77)
endif()

# Kernel development benchmarks (cpp/cuda/kernels-bench, llm.c dev/cuda style): stand-alone programs.
foreach(kb layernorm_forward layernorm_backward residual_layernorm_forward rmsnorm_forward)
  add_executable(kb_${kb} cpp/cuda/kernels-bench/${kb}.cu)
  target_include_directories(kb_${kb} PRIVATE "${RESNORM_CUDA_DIR}/ops" "${RESNORM_CUDA_DIR}/kernels-bench")
  target_compile_options(kb_${kb} PRIVATE -lineinfo)
  target_link_libraries(kb_${kb} PRIVATE resnorm_cuda_kernels)
  set_target_properties(kb_${kb} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/kernels-bench")
endforeach()

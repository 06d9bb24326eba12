# WebAssembly build of the core (included by CMakeLists.txt under if(EMSCRIPTEN)): the flags that make
# Eigen vectorize through Emscripten's SSE-to-wasm-SIMD mapping, C++ exceptions, and the embind module.
# Presets "wasm" and "wasm-nosimd" (CMakePresets.json) select RESNORM_WASM_SIMD; see TOOLCHAIN.md.

option(RESNORM_WASM_SIMD "Build with 128-bit wasm SIMD (Eigen through the SSE4.1 mapping)" ON)
set(RESNORM_WASM_PUBLISH_DIR "" CACHE PATH "If set, copy resnorm.mjs + resnorm.wasm here after linking")
# The pthreads variant (issue 13, preset wasm-mt): the same core with its op pool on Web Workers over a
# SharedArrayBuffer, published as resnorm-mt.{mjs,wasm,worker.js}. Browsers give SharedArrayBuffer only to
# cross-origin isolated pages (COOP + COEP), so the engine's worker loads it only where
# self.crossOriginIsolated is true and keeps the single-thread build everywhere else (an embedding blog).
option(RESNORM_WASM_PTHREADS "Build the pthreads variant (resnorm-mt)" OFF)
if(RESNORM_WASM_PTHREADS)
  set(_resnorm_wasm_name resnorm-mt)
  # Browsers only: Node tests and benchmarks use the single-thread build; leaving Node's glue out keeps
  # this variant inside the 200 KB budget (its pthread glue and worker.js cost ~10 KB gzipped).
  set(_resnorm_wasm_env web,worker)
  target_compile_options(resnorm_core PUBLIC -pthread)
  target_link_options(resnorm_core INTERFACE -pthread)
  # The pthread glue and worker.js take ~10 KB gzipped: this variant also compiles the Trainer's
  # bookkeeping for size (its arithmetic is in the ops and the model, which keep -O3; the same bits, as
  # clang reorders no float sums at any level without -ffast-math). Measured: 204,968 -> 200,832 B gzipped.
  set_source_files_properties(cpp/core/trainer.cpp PROPERTIES COMPILE_OPTIONS "-Oz")
else()
  set(_resnorm_wasm_name resnorm)
  set(_resnorm_wasm_env web,worker,node)
endif()

# resnorm::Error must reach JavaScript with its message: JS-based exception handling (the only kind
# whose libraries Debian's frozen Emscripten cache holds). The flags go on everything that links the core.
target_compile_options(resnorm_core PUBLIC -fexceptions)
target_link_options(resnorm_core INTERFACE -fexceptions)

# Bulk memory (every browser since 2020, Node >= 12.5): memset/memcpy become memory.fill/memory.copy
# instead of byte loops; zeroing the gradient blocks was the largest cost of a step without it.
# Core only (PRIVATE): embind's headers use thread_local, which wasm-ld refuses in a bulk-memory
# object unless atomics (threads) are on too.
target_compile_options(resnorm_core PRIVATE -mbulk-memory)
target_link_options(resnorm_core INTERFACE -mbulk-memory)

if(RESNORM_WASM_SIMD)
  # -msse4.1 lets Eigen see SSE and emit Packet4f code that Emscripten maps onto wasm SIMD.
  # simd-shim/ holds an empty mmintrin.h (clang's refuses non-x86), searched before the system one;
  # -fgnuc-version=5.13 steers Eigen away from inline-asm constraints that fail for wasm.
  target_compile_options(resnorm_core PUBLIC -msimd128 -msse4.1 -fgnuc-version=5.13)
  # Eigen assumes 8 SIMD registers on an unknown architecture; x86-64 SSE (and V8's code for wasm SIMD on
  # x86-64) has 16. With 16 Eigen picks the same GEMM kernel and blocking as the native SSE4.1 build, so
  # the matrix products are bit-identical to native-sse (checked op by op), at the same speed.
  target_compile_definitions(resnorm_core PUBLIC EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS=16)
  target_include_directories(resnorm_core SYSTEM BEFORE PUBLIC "${CMAKE_CURRENT_LIST_DIR}/simd-shim")
  target_link_options(resnorm_core INTERFACE -msimd128)
endif()

# The ops never throw and never allocate. Compiled without exceptions, their calls stop going
# through Emscripten's JS exception trampolines (invoke_*: wasm -> JS -> wasm for every call made while a
# destructor or catch is pending, e.g. ~50 per mlp-spiral step inside Eigen's GEMM driver). Code that
# throws or allocates (model.cpp, trainer.cpp, config, checkpoints, bindings) keeps -fexceptions. Issue 13.
file(GLOB _resnorm_nothrow "${CMAKE_SOURCE_DIR}/cpp/core/ops/*.cpp")
set_source_files_properties(${_resnorm_nothrow} PROPERTIES COMPILE_OPTIONS "-fno-exceptions")

# Code that runs once per config or checkpoint (parsing, validation, safetensors, dataset generation)
# is compiled for size; the ops, model, optimiser and train step keep -O3. Saves ~10 KB gzipped.
# plan.cpp (the model's layout, built once per model; split out of model.cpp) joined the list when the
# hostile-input checks (issue 21) took the pthreads variant over its budget. The executor's walk and the
# host op set (cpp/core/exec: a few dozen op calls per step; the arithmetic is in the ops) joined it when the
# CPU Model became the executor over CpuOps (issue 22): 2.3 KB gzipped less than at -O3. The one train step
# (exec/train_step.cpp: its sequence and the statistics' bookkeeping) joined with it; the optimiser's loops it
# runs are in optimizer.cpp, the reductions in sum_squares.cpp, both -O3.
set_source_files_properties(cpp/core/config.cpp cpp/core/json.cpp cpp/core/checkpoint.cpp cpp/core/data.cpp cpp/core/inspect.cpp cpp/core/plan.cpp
                            cpp/core/exec/plan_executor.cpp cpp/core/exec/host_ops.cpp cpp/core/exec/train_step.cpp
                            PROPERTIES COMPILE_OPTIONS "-Oz")

# One ES module + .wasm for browsers (main thread or worker) and Node alike. No eval/new Function in the
# glue (strict CSP), no filesystem (nothing in the API touches files), memory grows on demand.
add_executable(resnorm_wasm "${CMAKE_CURRENT_LIST_DIR}/bindings.cpp")
target_link_libraries(resnorm_wasm PRIVATE resnorm_core)
set_target_properties(resnorm_wasm PROPERTIES OUTPUT_NAME ${_resnorm_wasm_name} SUFFIX ".mjs")
target_link_options(resnorm_wasm PRIVATE
  --bind
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createResnorm
  -sENVIRONMENT=${_resnorm_wasm_env}
  -sDYNAMIC_EXECUTION=0
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2GB
  -sFILESYSTEM=0
  -sINCOMING_MODULE_JS_API=[wasmBinary,locateFile,instantiateWasm,print,printErr,onAbort]
  -sEXPORTED_RUNTIME_METHODS=[]
  -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0  # don't install process-wide handlers in a host app
  -Oz  # binaryen size passes (after CMake's -O3): keeps .wasm + glue under the 150 KB gzip budget
)
target_compile_options(resnorm_wasm PRIVATE -Oz)
# Extra link options after the ones above (the later -s setting wins): bench/threads_memory_web.mjs links the
# pthreads engine with a fixed memory this way, to measure what memory growth costs it.
set(RESNORM_WASM_EXTRA_LINK "" CACHE STRING "Extra emcc link options for the engine (a ;-list)")
if(RESNORM_WASM_EXTRA_LINK)
  target_link_options(resnorm_wasm PRIVATE ${RESNORM_WASM_EXTRA_LINK})
endif()
set(_resnorm_wasm_files "$<TARGET_FILE_DIR:resnorm_wasm>/${_resnorm_wasm_name}.mjs" "$<TARGET_FILE_DIR:resnorm_wasm>/${_resnorm_wasm_name}.wasm")
if(RESNORM_WASM_PTHREADS)
  # Workers are pre-spawned at load (a pool that grew lazily would deadlock the first op, which blocks
  # until they run): Module.poolSize of them, which the loader sets to the thread count minus one.
  target_link_options(resnorm_wasm PRIVATE -sPTHREAD_POOL_SIZE=Module.poolSize)
  list(APPEND _resnorm_wasm_files "$<TARGET_FILE_DIR:resnorm_wasm>/${_resnorm_wasm_name}.worker.js")
endif()
if(RESNORM_WASM_PUBLISH_DIR)
  add_custom_command(TARGET resnorm_wasm POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory "${RESNORM_WASM_PUBLISH_DIR}"
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${_resnorm_wasm_files} "${RESNORM_WASM_PUBLISH_DIR}"
    VERBATIM)
endif()

# GEMM micro-benchmark (bench/wasm/gemm_bench.cpp), the wasm half of `npm run bench`.
if(EXISTS "${CMAKE_SOURCE_DIR}/bench/wasm/gemm_bench.cpp")
  add_executable(resnorm_gemm_bench "${CMAKE_SOURCE_DIR}/bench/wasm/gemm_bench.cpp")
  target_link_libraries(resnorm_gemm_bench PRIVATE resnorm_core)
  set_target_properties(resnorm_gemm_bench PROPERTIES OUTPUT_NAME gemm_bench SUFFIX ".mjs")
  target_link_options(resnorm_gemm_bench PRIVATE
    --bind -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createGemmBench -sENVIRONMENT=web,worker,node
    -sDYNAMIC_EXECUTION=0 -sALLOW_MEMORY_GROWTH=1 -sFILESYSTEM=0)
endif()

# Catch2's headers live in /usr/include, and `-isystem /usr/include` would put glibc's headers in front of
# the wasm sysroot's. Give the tests a folder holding only catch2/ (a link) instead.
if(RESNORM_BUILD_TESTS AND CATCH2_INCLUDE_DIR STREQUAL "/usr/include" AND EXISTS "/usr/include/catch2/catch.hpp")
  set(_resnorm_catch2 "${CMAKE_BINARY_DIR}/catch2-include")
  file(MAKE_DIRECTORY "${_resnorm_catch2}")
  if(NOT EXISTS "${_resnorm_catch2}/catch2")
    file(CREATE_LINK "/usr/include/catch2" "${_resnorm_catch2}/catch2" SYMBOLIC)
  endif()
  set(CATCH2_INCLUDE_DIR "${_resnorm_catch2}")  # normal variable: shadows the cache entry in this build only
endif()

# package.json says "type": "module", so Node would read the test runner's CommonJS glue (resnorm_tests.js)
# as an ES module and fail on __dirname. Name it .cjs. Deferred: the target is created after this file.
function(_resnorm_wasm_tests_as_cjs)
  if(TARGET resnorm_tests)
    set_target_properties(resnorm_tests PROPERTIES SUFFIX ".cjs")
  endif()
endfunction()
cmake_language(DEFER CALL _resnorm_wasm_tests_as_cjs)

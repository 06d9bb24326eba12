// Entry point of resnorm_cuda_tests. Tests tagged [cuda] need a GPU: when the selected tests include
// any and no CUDA device is usable, nothing runs, the count is printed and the exit code is 77, which
// ctest (SKIP_RETURN_CODE) reports as skipped, never as passed. The executor's host tests are [backend] in resnorm_tests.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include "cuda_backend.h"

int main(int argc, char** argv) {
  Catch::Session session;
  const int rc = session.applyCommandLine(argc, argv);
  if (rc != 0) return rc;
  const Catch::Config& cfg = session.config();
  const std::vector<Catch::TestCase> selected =
      Catch::filterTests(Catch::getAllTestCasesSorted(cfg), cfg.testSpec(), cfg);
  const auto device_tests = std::count_if(selected.begin(), selected.end(), [](const Catch::TestCase& t) {
    return std::find(t.lcaseTags.begin(), t.lcaseTags.end(), "cuda") != t.lcaseTags.end();
  });
  if (device_tests > 0 && !cfg.listTestNamesOnly() && !cfg.listTests()) {
    const resnorm::CudaDeviceInfo dev = resnorm::cuda_device_info();
    if (!dev.present()) {
      std::printf("no CUDA device: %ld [cuda] tests not run (%s)\n", static_cast<long>(device_tests), dev.error.c_str());
      return 77;
    }
    std::printf("CUDA device: %s (compute capability %d.%d, %d SMs, %zu MiB free)\n", dev.name.c_str(), dev.cc_major,
                dev.cc_minor, dev.sms, dev.free_bytes >> 20);
  }
  return session.run();
}

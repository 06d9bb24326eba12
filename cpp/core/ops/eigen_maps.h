// Eigen views over the core's raw row-major float buffers (the MiniDNN habit: map, don't copy).
#pragma once
// GCC 12's AVX-512 intrinsic headers (x86-64-v4 / Zen 4+ with -march=native) initialise a vector
// from itself in _mm512_undefined_ps(); inlined through Eigen's packet code, that reports ~300
// -Wmaybe-uninitialized warnings located in avx512fintrin.h (GCC bug 105593, fixed in GCC 13). The
// pragma covers only the lines of the headers included here, so the project's own code keeps the warning.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace resnorm {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMat = Eigen::Map<RowMat>;
using CMapMat = Eigen::Map<const RowMat>;
using MapStrided = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
using CMapStrided = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
using MapRow = Eigen::Map<Eigen::RowVectorXf>;
using CMapRow = Eigen::Map<const Eigen::RowVectorXf>;
using MapArr = Eigen::Map<Eigen::ArrayXf>;
using CMapArr = Eigen::Map<const Eigen::ArrayXf>;
}  // namespace resnorm

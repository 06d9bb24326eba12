// Eigen views over the core's raw row-major float buffers (the MiniDNN habit: map, don't copy).
#pragma once
#include <Eigen/Core>

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

// Linear layer, forward and backward. The matrix products go through Eigen's GEMM.
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC) {
  MapMat y(out, N, OC);
  y.noalias() = CMapMat(in, N, IC) * CMapMat(w, OC, IC).transpose();
  if (b) y.rowwise() += CMapRow(b, OC);
}

void linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w, int N,
                     int IC, int OC) {
  CMapMat dy(dout, N, OC);
  if (din) MapMat(din, N, IC).noalias() += dy * CMapMat(w, OC, IC);
  MapMat(dw, OC, IC).noalias() += dy.transpose() * CMapMat(in, N, IC);
  if (db) MapRow(db, OC) += dy.colwise().sum();
}

}  // namespace resnorm

// Token + learned position embedding, forward and backward.
#include "eigen_maps.h"
#include "ops.h"

namespace resnorm {

void embedding_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T, int C) {
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const int r = b * T + t;
      MapRow(out + static_cast<size_t>(r) * C, C) =
          CMapRow(wte + static_cast<size_t>(tokens[r]) * C, C) + CMapRow(wpe + static_cast<size_t>(t) * C, C);
    }
}

void embedding_backward(float* dwte, float* dwpe, const float* dout, const int* tokens, int B, int T, int C) {
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const int r = b * T + t;
      CMapRow g(dout + static_cast<size_t>(r) * C, C);
      MapRow(dwte + static_cast<size_t>(tokens[r]) * C, C) += g;
      MapRow(dwpe + static_cast<size_t>(t) * C, C) += g;
    }
}

}  // namespace resnorm

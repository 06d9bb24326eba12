// Read-only probes of a trained cnn for the playground (issue 11): class probabilities for images the
// page supplies (the held-out grid, a digit drawn with the mouse). BatchNorm runs in eval mode, with
// its running statistics, so probing changes nothing a later step() sees.
#pragma once
#include <vector>

#include "trainer.h"

namespace resnorm {

// images: n images [n, side*side] in the data's normalisation (Dataset2D::x_test's). Returns [n, 10].
std::vector<float> cnn_probs(Trainer& t, const float* images, int n);

// The feature maps after one block (0 .. 3*depth-1) for one image [side*side]: the block's output y,
// as [channels, h, h] (channel-major for drawing), BatchNorm in eval mode. Sets *channels and *h.
std::vector<float> cnn_features(Trainer& t, const float* image, int block, int* channels, int* h);

}  // namespace resnorm

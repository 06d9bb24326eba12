// The learning-rate schedule: linear warmup, then constant or cosine decay to min_lr. The optimisers
// themselves (AdamW, Loshchilov & Hutter 2019, and SGD with momentum, as torch.optim) are step_math.h's
// range loops, run by the one train step (exec/train_step.h) through the op set's optimizer_update.
#pragma once
#include "config.h"

namespace resnorm {

double learning_rate(const OptimConfig& o, int step);  // step is 0-based

}  // namespace resnorm

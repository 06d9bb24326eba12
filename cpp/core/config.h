// The one config used by the CLI, the tests, the browser and the benchmarks.
// JSON in, validated struct out; every refusal names the field, the value and what is allowed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "json.h"

namespace resnorm {

enum class ModelKind { Mlp, Gpt, Cnn };
enum class Activation { Relu, Tanh, Gelu };
enum class Residual { None, Identity, ReZero, DeepNorm, Doubled };
enum class NormKind { None, LayerNorm, RmsNorm, BatchNorm };
enum class Placement { Pre, Post, Sandwich };
enum class OptimName { AdamW, Sgd };
enum class Schedule { Constant, Cosine };
// cnn digits: pixels standardised with MNIST's mean and std (the default), or raw 0..1 (a blank
// background is then exactly 0, as in a tutorial that feeds pixels / 255).
enum class Pixels { Standardized, Raw };

struct ModelConfig {
  ModelKind kind = ModelKind::Mlp;
  int depth = 8;             // blocks
  int width = 64;            // hidden width / d_model
  int heads = 4;             // gpt only; must divide width
  int context = 64;          // gpt only; tokens per sequence
  Activation activation = Activation::Relu;  // mlp branch activation (gpt MLP is always GELU)
  Residual residual = Residual::Identity;
  NormKind norm = NormKind::LayerNorm;
  Placement placement = Placement::Pre;
  double eps = 1e-5;         // may be 0: the article's LayerNorm (a zero variance is then reported)
  // cnn only, not a JSON key of the model section: the input images' side, from data.resolution.
  int image = 14;
};

// BatchNorm's running-statistics momentum, PyTorch's default (nn.BatchNorm*d momentum=0.1).
constexpr float kBatchNormMomentum = 0.1f;

struct DataConfig {
  std::string name = "spiral";  // spiral|circle|xor|gauss|moons|checkerboard|tinyshakespeare|digits
  double noise = 0.1;
  int samples = 1000;
  double test_fraction = 0.2;   // 2-D datasets and digits; the text always splits 90/10
  int resolution = 14;          // digits: 14 (2x2 average-pooled, the default) or 28 pixels a side
  Pixels pixels = Pixels::Standardized;  // digits: "standardized" (v - 0.1307) / 0.3081, or "raw" v in 0..1
  // The seed of the data alone (the points, their train/test split, the digits' held-out split);
  // 0 = the run's `seed`, which also seeds the weights and batches. "Regenerate data" in the
  // playground sets it, so a new dataset trains the same initial weights. Absent from a config or
  // a link made before it existed means 0, so those keep their data.
  uint32_t seed = 0;
};

struct OptimConfig {
  OptimName name = OptimName::AdamW;
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.99, eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.9;     // sgd
  int warmup = 100;          // linear warmup steps
  Schedule schedule = Schedule::Constant;
  double min_lr = 1e-4;      // cosine floor
  double clip = 1.0;         // global grad-norm clip; 0 = off
  int batch = 32;
  int steps = 2000;          // run length (and the cosine horizon)
};

struct EvalConfig {
  int every = 100;   // evaluate every N steps (CLI); 0 = only at the end
  int batches = 8;   // gpt: validation batches per evaluation
};

struct Config {
  ModelConfig model;
  DataConfig data;
  OptimConfig optim;
  EvalConfig eval;
  uint32_t seed = 1337;

  bool is_gpt() const { return model.kind == ModelKind::Gpt; }
  bool is_cnn() const { return model.kind == ModelKind::Cnn; }
  // The seed the datasets are drawn with (data.seed, else the run's seed).
  uint32_t data_seed() const { return data.seed ? data.seed : seed; }
};

// Hard cap on parameters + optimiser state + activations, checked before any allocation:
// 1.5 GiB in WebAssembly (the module may grow to 2 GB, -sMAXIMUM_MEMORY in cpp/wasm/wasm.cmake,
// and needs room beyond the model), 8 GiB natively.
#ifdef __EMSCRIPTEN__
constexpr double kMaxModelBytes = 1536.0 * 1024.0 * 1024.0;
#else
constexpr double kMaxModelBytes = 8192.0 * 1024.0 * 1024.0;
#endif

// Parse and validate. Missing keys take the defaults above; unknown keys are refused.
// check_cap = false skips only the kMaxModelBytes check (`resnorm show --no-cap`: the PyTorch twin,
// python/resnorm_torch/train.py, validates configs through the core and checks its own device's memory).
Config config_from_json(const Json& j, bool check_cap = true);
Config config_from_string(const std::string& text, bool check_cap = true);
Json config_to_json(const Config& c);

// Built-in presets (cpp/presets/*.json, compiled in).
std::vector<std::string> preset_names();
std::string preset_json(const std::string& name);  // throws Error naming the known presets
Config preset(const std::string& name);

// Rows of the activation block a Trainer allocates for this config: batch x context tokens for gpt;
// for mlp at least 256 samples, so evaluation and the decision-boundary grid run in chunks.
int training_rows(const Config& c);
// Floats per sample in the Trainer's batch buffer: 2 (a point), data.resolution^2 (a digit, cnn), 0 (gpt).
int sample_dim(const Config& c);

// Bytes a Trainer for this config allocates (parameters, gradients, optimiser state, activations
// and their gradients, attention probabilities, batch buffers), computed from the same ModelPlan
// the model allocates (model.h: plan_bytes), so it is exact, not an approximation. vocab: classes
// (mlp: 2) or characters (gpt). Checked against kMaxModelBytes before anything is allocated.
double estimate_bytes(const Config& c, int vocab);
// An upper bound on estimate_bytes() within 2x of it (measured 1.0-1.7x), computed in double without building the plan.
double bytes_upper_bound(const Config& c, int vocab);

const char* to_string(ModelKind);
const char* to_string(Activation);
const char* to_string(Residual);
const char* to_string(NormKind);
const char* to_string(Placement);
const char* to_string(OptimName);
const char* to_string(Schedule);
const char* to_string(Pixels);

}  // namespace resnorm

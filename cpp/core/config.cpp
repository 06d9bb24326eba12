// Config parsing and validation. The limits here are the product's limits: the browser, the CLI
// and the tests all see exactly these messages.
#include "config.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "error.h"
#include "exec/train_step.h"
#include "model.h"

namespace resnorm {

namespace {

template <class E>
struct EnumTable {
  const char* name;
  E value;
};

const EnumTable<ModelKind> kKinds[] = {{"mlp", ModelKind::Mlp}, {"gpt", ModelKind::Gpt}, {"cnn", ModelKind::Cnn}};
const EnumTable<Activation> kActs[] = {{"relu", Activation::Relu}, {"tanh", Activation::Tanh}, {"gelu", Activation::Gelu}};
const EnumTable<Residual> kResiduals[] = {
    {"none", Residual::None}, {"identity", Residual::Identity}, {"rezero", Residual::ReZero}, {"deepnorm", Residual::DeepNorm},
    {"doubled", Residual::Doubled}};
const EnumTable<NormKind> kNorms[] = {{"none", NormKind::None}, {"layernorm", NormKind::LayerNorm}, {"rmsnorm", NormKind::RmsNorm},
                                     {"batchnorm", NormKind::BatchNorm}};
const EnumTable<Placement> kPlacements[] = {{"pre", Placement::Pre}, {"post", Placement::Post}, {"sandwich", Placement::Sandwich}};
const EnumTable<OptimName> kOptims[] = {{"adamw", OptimName::AdamW}, {"sgd", OptimName::Sgd}};
const EnumTable<Schedule> kSchedules[] = {{"constant", Schedule::Constant}, {"cosine", Schedule::Cosine}};
const EnumTable<Pixels> kPixels[] = {{"standardized", Pixels::Standardized}, {"raw", Pixels::Raw}};
const char* kDatasets[] = {"spiral", "circle", "xor", "gauss", "moons", "checkerboard", "tinyshakespeare", "tangpoems", "text", "points", "digits"};

template <class E, size_t N>
const char* enum_name(const EnumTable<E> (&table)[N], E v) {
  for (const auto& e : table)
    if (e.value == v) return e.name;
  return "?";
}

// Reads one section of the config, remembering which keys were consumed so leftovers are refused.
class Section {
 public:
  Section(const Json* j, std::string path) : j_(j), path_(std::move(path)) {
    if (j_ && !j_->is_object())
      throw Error("config: " + path_ + " must be an object, got " + Json::type_name(j_->type()));
  }

  void number(const char* key, double& out, double lo, double hi, bool lo_open = false) {
    const Json* v = get(key);
    if (!v) return;
    double d = require_number(key, *v);
    bool below = lo_open ? !(d > lo) : !(d >= lo);
    if (below || !(d <= hi))
      throw Error("config: " + field(key) + " = " + format_number(d) + " is out of range (allowed: " +
                  (lo_open ? "> " : "") + format_number(lo) + (lo_open ? " and <= " : "..") + format_number(hi) + ")");
    out = d;
  }

  void integer(const char* key, int& out, long lo, long hi) {
    const Json* v = get(key);
    if (!v) return;
    double d = require_number(key, *v);
    if (d != std::floor(d))
      throw Error("config: " + field(key) + " = " + format_number(d) + " must be an integer (allowed: " +
                  std::to_string(lo) + ".." + std::to_string(hi) + ")");
    if (d < lo || d > hi)
      throw Error("config: " + field(key) + " = " + format_number(d) + " is out of range (allowed: integer " +
                  std::to_string(lo) + ".." + std::to_string(hi) + ")");
    out = static_cast<int>(d);
  }

  template <class E, size_t N>
  void choice(const char* key, E& out, const EnumTable<E> (&table)[N]) {
    const Json* v = get(key);
    if (!v) return;
    std::string allowed;
    for (const auto& e : table) allowed += std::string(allowed.empty() ? "" : "|") + e.name;
    if (!v->is_string())
      throw Error("config: " + field(key) + " must be a string (allowed: " + allowed + "), got " + v->dump());
    for (const auto& e : table)
      if (v->as_string() == e.name) { out = e.value; return; }
    throw Error("config: " + field(key) + " = \"" + printable(v->as_string()) + "\" is not allowed (allowed: " + allowed + ")");
  }

  void dataset(const char* key, std::string& out) {
    const Json* v = get(key);
    if (!v) return;
    std::string allowed;
    for (const char* n : kDatasets) allowed += std::string(allowed.empty() ? "" : "|") + n;
    if (v->is_string())
      for (const char* n : kDatasets)
        if (v->as_string() == n) { out = n; return; }
    throw Error("config: " + field(key) + " = " + v->dump() + " is not allowed (allowed: " + allowed + ")");
  }

  // Anything not consumed is an unknown key: refuse it with the list of known ones.
  void finish() const {
    if (!j_) return;
    for (const auto& kv : j_->members()) {
      bool known = false;
      for (const auto& k : seen_) known = known || k == kv.first;
      if (!known) {
        std::string allowed;
        for (const auto& k : seen_) allowed += (allowed.empty() ? "" : ", ") + k;
        throw Error("config: unknown key \"" + printable(field(kv.first.c_str())) + "\" (allowed in " + path_ + ": " + allowed + ")");
      }
    }
  }

  std::string field(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  const Json* get(const char* key) {
    seen_.push_back(key);
    return j_ ? j_->find(key) : nullptr;
  }
  double require_number(const char* key, const Json& v) const {
    if (!v.is_number())
      throw Error("config: " + field(key) + " must be a number, got " + Json::type_name(v.type()) + " " + v.dump());
    if (!std::isfinite(v.as_number())) throw Error("config: " + field(key) + " must be finite");
    return v.as_number();
  }

  const Json* j_;
  std::string path_;
  std::vector<std::string> seen_;
};

}  // namespace

const char* to_string(ModelKind v) { return enum_name(kKinds, v); }
const char* to_string(Activation v) { return enum_name(kActs, v); }
const char* to_string(Residual v) { return enum_name(kResiduals, v); }
const char* to_string(NormKind v) { return enum_name(kNorms, v); }
const char* to_string(Placement v) { return enum_name(kPlacements, v); }
const char* to_string(OptimName v) { return enum_name(kOptims, v); }
const char* to_string(Schedule v) { return enum_name(kSchedules, v); }
const char* to_string(Pixels v) { return enum_name(kPixels, v); }

int training_rows(const Config& c) {
  // cnn: one batch of images; evaluation runs in chunks of it.
  return c.is_gpt() ? c.optim.batch * c.model.context : c.is_cnn() ? c.optim.batch : std::max(c.optim.batch, 256);
}

int sample_dim(const Config& c) { return c.is_cnn() ? c.data.resolution * c.data.resolution : 2; }

double bytes_upper_bound(const Config& c, int vocab) {
  if (c.is_cnn()) {
    // Per image, every block holds at most 12 NHWC slots and 3 norms' statistics at its stage's size
    // (stage k: (H/2^k)^2 positions x 2^k w channels, so each stage is <= H^2 w); im2col scratch 2 x 9 H^2 w
    // per image; parameters <= 9 (4w)^2 x 2 + (4w)^2 per block.
    const double w = c.model.width, L = c.model.depth, R = c.optim.batch, HW = c.data.resolution * c.data.resolution;
    const double params = 9 * w + L * 3 * (19 * 16 * w * w + 12 * 4 * w + 1) + 10 * (4 * w + 1);
    const double acts = R * (HW * w * (4 + 3 * L * 18) + 32 * w + 20) + 18 * R * HW * w;
    const double optimiser_copies = c.optim.name == OptimName::AdamW ? 3 : 2;
    return 4.0 * (params * (2 + optimiser_copies) + 2 * acts + R * (HW + 2) + 2 * L * 3 * 8 * 4 * w);
  }
  if (!c.is_gpt()) vocab = 2;
  vocab = std::max(vocab, 2);
  // Per block, more than any placement, norm and residual allocate (model.cpp, make_plan): parameters
  // (mlp: fc C^2 + C, two norms 4C, a gate; gpt: qkv + proj 4C^2 + 4C, fc + proj 8C^2 + 5C, four norms
  // 8C, two gates) and activations per row (mlp: h, f, y, u, g or z and four norm statistics;
  // gpt: 20 C + 8 plus the attention probabilities, heads x context).
  const double C = c.model.width, L = c.model.depth, R = training_rows(c), V = vocab;
  double params, acts_per_row, att = 0, scratch = 0;
  if (c.is_gpt()) {
    const double T = c.model.context, H = c.model.heads;
    params = 2 * V * C + T * C + L * (12 * C * C + 17 * C + 2) + 2 * C;
    acts_per_row = L * (20 * C + 8) + 3 * C + 2 * V + 2;
    att = L * R * H * T;
    scratch = T * T;
  } else {
    params = 3 * C + L * (C * C + 5 * C + 1) + 2 * C + 3 * C + 2;
    acts_per_row = L * (5 * C + 4) + 3 * C + 2 * V + 2;
  }
  const double optimiser_copies = c.optim.name == OptimName::AdamW ? 3 : 2;
  return 4.0 * (params * (2 + optimiser_copies) + 2 * R * acts_per_row + att + scratch + 4 * R);
}

double estimate_bytes(const Config& c, int vocab) {
  if (!c.is_gpt()) vocab = c.is_cnn() ? 10 : 2;
  vocab = std::max(vocab, 2);
  // Building the plan for a config far over any cap could overflow its size_t offsets in 32-bit
  // WebAssembly, so there an upper bound (bytes_upper_bound) decides first: a config it puts beyond
  // 3.5 GiB is refused on the bound alone. The bound is within 2x of the exact figure, so every
  // config under the caps (8 GiB native, 1.5 GiB wasm) gets the exact plan-based number.
  const double bound = bytes_upper_bound(c, vocab);
  if (sizeof(size_t) < 8 && bound > 3.5 * 1024.0 * 1024.0 * 1024.0) return bound;
  const ModelPlan plan = make_plan(c.model, vocab, training_rows(c));
  // The train step's backend memory: moments, the statistics block and the reductions' chunk tables.
  const double optimiser = static_cast<double>(TrainStep::bytes_for(plan, c));
  const double batch = static_cast<double>(training_rows(c)) * (sample_dim(c) * sizeof(float) + 2 * sizeof(int));
  return static_cast<double>(plan_bytes(plan)) + optimiser + batch;
}

Config config_from_json(const Json& j, bool check_cap) {
  if (!j.is_object()) throw Error(std::string("config: the config must be a JSON object, got ") + Json::type_name(j.type()));
  Config c;

  // Model kind first: other defaults depend on it.
  Section m(j.find("model"), "model");
  m.choice("kind", c.model.kind, kKinds);
  if (c.is_gpt()) { c.data.name = "tinyshakespeare"; }
  if (c.is_cnn()) { c.data.name = "digits"; c.model.norm = NormKind::BatchNorm; c.model.placement = Placement::Post; c.model.width = 16; c.model.depth = 1; }
  const int max_depth = c.is_gpt() ? 64 : c.is_cnn() ? 64 : 512;
  m.integer("depth", c.model.depth, 1, max_depth);
  m.integer("width", c.model.width, 1, 4096);
  m.integer("heads", c.model.heads, 1, 64);
  m.integer("context", c.model.context, 1, 1024);
  m.choice("activation", c.model.activation, kActs);
  m.choice("residual", c.model.residual, kResiduals);
  m.choice("norm", c.model.norm, kNorms);
  m.choice("placement", c.model.placement, kPlacements);
  m.number("eps", c.model.eps, 0.0, 1.0);  // 0 allowed: the article's LayerNorm without eps
  m.finish();
  if (c.is_cnn() && c.model.residual == Residual::DeepNorm)
    throw Error("config: model.residual = \"deepnorm\" is not allowed for model.kind = \"cnn\" (allowed: "
                "none|identity|rezero|doubled): DeepNorm is defined for Post-LN transformers");
  if (c.is_cnn() && c.model.placement == Placement::Sandwich)
    throw Error("config: model.placement = \"sandwich\" is not allowed for model.kind = \"cnn\" (allowed: "
                "post = ResNet v1, pre = ResNet v2)");
  if (c.is_gpt() && c.model.norm == NormKind::BatchNorm)
    throw Error("config: model.norm = \"batchnorm\" is not allowed for model.kind = \"gpt\" (allowed: "
                "none|layernorm|rmsnorm): batch statistics would mix positions a causal model must not see");
  if (c.is_gpt() && c.model.width % c.model.heads != 0)
    throw Error("config: model.width = " + std::to_string(c.model.width) + " must be divisible by model.heads = " +
                std::to_string(c.model.heads));

  Section d(j.find("data"), "data");
  d.dataset("name", c.data.name);
  d.number("noise", c.data.noise, 0.0, 2.0);
  d.integer("samples", c.data.samples, 10, 200000);
  d.number("test_fraction", c.data.test_fraction, 0.05, 0.95);
  d.integer("resolution", c.data.resolution, 14, 28);
  d.choice("pixels", c.data.pixels, kPixels);
  double data_seed = 0;
  d.number("seed", data_seed, 0.0, 4294967295.0);
  d.finish();
  if (data_seed != std::floor(data_seed))
    throw Error("config: data.seed = " + format_number(data_seed) + " is not allowed (allowed: integer 0..4294967295; 0 = the run's seed)");
  c.data.seed = static_cast<uint32_t>(data_seed);
  if (c.data.resolution != 14 && c.data.resolution != 28)
    throw Error("config: data.resolution = " + std::to_string(c.data.resolution) + " is not allowed (allowed: 14|28)");
  c.model.image = c.data.resolution;
  // Text datasets: the two built-in corpora, and "text", a UTF-8 text the caller supplies (--data, or
  // one the playground keeps in the browser).
  const bool text = c.data.name == "tinyshakespeare" || c.data.name == "tangpoems" || c.data.name == "text";
  const bool digits = c.data.name == "digits";
  if (c.is_cnn() != digits)
    throw Error("config: data.name = \"" + c.data.name + "\" does not fit model.kind = \"" + to_string(c.model.kind) +
                "\" (allowed: " + (c.is_cnn() ? "digits" : c.is_gpt() ? "tinyshakespeare|tangpoems|text" : "spiral|circle|xor|gauss|moons|checkerboard|points") + ")");
  if (!c.is_cnn() && c.data.pixels != Pixels::Standardized)
    throw Error("config: data.pixels = \"" + std::string(to_string(c.data.pixels)) + "\" is only for model.kind = \"cnn\" (digits)");
  if (c.is_gpt() && !text)
    throw Error("config: data.name = \"" + c.data.name +
                "\" does not fit model.kind = \"gpt\" (allowed: tinyshakespeare|tangpoems|text)");
  if (!c.is_gpt() && text)
    throw Error("config: data.name = \"" + c.data.name + "\" does not fit model.kind = \"mlp\" "
                "(allowed: spiral|circle|xor|gauss|moons|checkerboard|points)");

  Section o(j.find("optim"), "optim");
  o.choice("name", c.optim.name, kOptims);
  o.number("lr", c.optim.lr, 0.0, 10.0, true);
  o.number("beta1", c.optim.beta1, 0.0, 0.999999);
  o.number("beta2", c.optim.beta2, 0.0, 0.999999);
  o.number("eps", c.optim.eps, 0.0, 1.0, true);
  o.number("weight_decay", c.optim.weight_decay, 0.0, 10.0);
  o.number("momentum", c.optim.momentum, 0.0, 0.999999);
  o.integer("warmup", c.optim.warmup, 0, 10000000);
  o.choice("schedule", c.optim.schedule, kSchedules);
  o.number("min_lr", c.optim.min_lr, 0.0, 10.0);
  o.number("clip", c.optim.clip, 0.0, 1e6);
  o.integer("batch", c.optim.batch, 1, 4096);
  o.integer("steps", c.optim.steps, 1, 10000000);
  o.finish();
  if (c.optim.schedule == Schedule::Cosine && c.optim.min_lr > c.optim.lr)
    throw Error("config: optim.min_lr = " + format_number(c.optim.min_lr) + " must not exceed optim.lr = " +
                format_number(c.optim.lr));

  Section e(j.find("eval"), "eval");
  e.integer("every", c.eval.every, 0, 10000000);
  e.integer("batches", c.eval.batches, 1, 1000);
  e.finish();

  if (const Json* s = j.find("seed")) {
    if (!s->is_number() || s->as_number() != std::floor(s->as_number()) || s->as_number() < 0 ||
        s->as_number() > 4294967295.0)
      throw Error("config: seed = " + s->dump() + " is not allowed (allowed: integer 0..4294967295)");
    c.seed = static_cast<uint32_t>(s->as_number());
  }
  // The known top-level keys; anything else is refused.
  for (const auto& kv : j.members()) {
    const std::string& k = kv.first;
    if (k != "model" && k != "data" && k != "optim" && k != "eval" && k != "seed")
      throw Error("config: unknown key \"" + printable(k) + "\" (allowed at top level: model, data, optim, eval, seed)");
  }

  // A typical text vocabulary (tiny Shakespeare has 65): the Trainer checks again with the text's own
  // vocabulary (up to kMaxVocab) before it allocates.
  const int vocab = 256;
  const double bytes = estimate_bytes(c, text ? vocab : 0);
  if (check_cap && bytes > kMaxModelBytes)
    throw Error("config: this model needs about " + std::to_string(static_cast<long long>(bytes / (1 << 20))) +
                " MiB (parameters, optimiser state and activations at optim.batch = " + std::to_string(c.optim.batch) +
                "), over the cap of " + std::to_string(static_cast<long long>(kMaxModelBytes / (1 << 20))) +
                " MiB: reduce model.depth, model.width, model.context or optim.batch");
  return c;
}

Config config_from_string(const std::string& text, bool check_cap) {
  Json j;
  try {
    j = parse_json(text);
  } catch (const Error& e) {
    throw Error(std::string("config: ") + e.what());
  }
  return config_from_json(j, check_cap);
}

Json config_to_json(const Config& c) {
  Json m = Json::object();
  m.set("kind", Json::string(to_string(c.model.kind)));
  m.set("depth", Json::number(c.model.depth));
  m.set("width", Json::number(c.model.width));
  m.set("heads", Json::number(c.model.heads));
  m.set("context", Json::number(c.model.context));
  m.set("activation", Json::string(to_string(c.model.activation)));
  m.set("residual", Json::string(to_string(c.model.residual)));
  m.set("norm", Json::string(to_string(c.model.norm)));
  m.set("placement", Json::string(to_string(c.model.placement)));
  m.set("eps", Json::number(c.model.eps));
  Json d = Json::object();
  d.set("name", Json::string(c.data.name));
  d.set("noise", Json::number(c.data.noise));
  d.set("samples", Json::number(c.data.samples));
  d.set("test_fraction", Json::number(c.data.test_fraction));
  if (c.is_cnn()) d.set("resolution", Json::number(c.data.resolution));
  if (c.data.pixels != Pixels::Standardized) d.set("pixels", Json::string(to_string(c.data.pixels)));  // only when set, as seed
  if (c.data.seed) d.set("seed", Json::number(c.data.seed));  // only when set: older configs print as before
  Json o = Json::object();
  o.set("name", Json::string(to_string(c.optim.name)));
  o.set("lr", Json::number(c.optim.lr));
  o.set("beta1", Json::number(c.optim.beta1));
  o.set("beta2", Json::number(c.optim.beta2));
  o.set("eps", Json::number(c.optim.eps));
  o.set("weight_decay", Json::number(c.optim.weight_decay));
  o.set("momentum", Json::number(c.optim.momentum));
  o.set("warmup", Json::number(c.optim.warmup));
  o.set("schedule", Json::string(to_string(c.optim.schedule)));
  o.set("min_lr", Json::number(c.optim.min_lr));
  o.set("clip", Json::number(c.optim.clip));
  o.set("batch", Json::number(c.optim.batch));
  o.set("steps", Json::number(c.optim.steps));
  Json e = Json::object();
  e.set("every", Json::number(c.eval.every));
  e.set("batches", Json::number(c.eval.batches));
  Json j = Json::object();
  j.set("model", m);
  j.set("data", d);
  j.set("optim", o);
  j.set("eval", e);
  j.set("seed", Json::number(c.seed));
  return j;
}

}  // namespace resnorm

// ---- presets (table generated from cpp/presets/*.json by cmake/embed_presets.cmake)
namespace resnorm {
struct PresetEntry {
  const char* name;
  const char* json;
};
extern const PresetEntry kPresets[];
extern const size_t kPresetCount;

std::vector<std::string> preset_names() {
  std::vector<std::string> out;
  for (size_t i = 0; i < kPresetCount; ++i) out.emplace_back(kPresets[i].name);
  return out;
}

std::string preset_json(const std::string& name) {
  for (size_t i = 0; i < kPresetCount; ++i)
    if (name == kPresets[i].name) return kPresets[i].json;
  std::string known;
  for (size_t i = 0; i < kPresetCount; ++i) known += std::string(known.empty() ? "" : ", ") + kPresets[i].name;
  throw Error("unknown preset \"" + printable(name) + "\" (known: " + known + ")");
}

Config preset(const std::string& name) {
  const std::string text = preset_json(name);
  try {
    return config_from_string(text);
  } catch (const Error& e) {
    throw Error("preset " + printable(name) + ": " + e.what());
  }
}
}  // namespace resnorm

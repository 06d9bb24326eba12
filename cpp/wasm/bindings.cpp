// embind registration of the core's Trainer for JavaScript: type conversion only (C++ structs and vectors
// to JS objects and typed-array copies, C++ exceptions to JS Errors). web/src/engine/wasm.ts mirrors it.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "error.h"
#include "config.h"
#include "data.h"
#include "inspect.h"
#include "parallel.h"
#include "trainer.h"

using emscripten::val;

namespace {

// Every entry point runs inside guard(): a C++ exception becomes a JS Error carrying what(), so callers
// see "config: model.depth = 0 is out of range ..." rather than a pointer or an abort. The message is
// copied out of the catch block first so the C++ exception object is released before the JS throw.
template <class F>
auto guard(F&& f) -> decltype(f()) {
  std::string msg;
  try {
    return f();
  } catch (const std::bad_alloc&) {
    msg = "out of memory";
  } catch (const std::exception& e) {
    msg = e.what();
  } catch (...) {
    msg = "unknown C++ exception";
  }
  val::global("Error").new_(val(msg)).throw_();
}

// Copies (not views): a view would detach as soon as wasm memory grows.
val f32_copy(const float* p, size_t n) { return val(emscripten::typed_memory_view(n, p)).call<val>("slice"); }
val f32_copy(const std::vector<float>& v) { return f32_copy(v.data(), v.size()); }
val i32_copy(const std::vector<int>& v) { return val(emscripten::typed_memory_view(v.size(), v.data())).call<val>("slice"); }
val u8_copy(const std::vector<uint8_t>& v) { return val(emscripten::typed_memory_view(v.size(), v.data())).call<val>("slice"); }

val to_js(const resnorm::EvalStats& e) {
  val o = val::object();
  o.set("trainLoss", e.train_loss);
  o.set("valLoss", e.val_loss);
  o.set("trainAccuracy", e.train_accuracy);
  o.set("accuracy", e.accuracy);
  return o;
}

std::vector<uint8_t> bytes_from_js(const val& bytes) { return emscripten::convertJSArrayToNumberVector<uint8_t>(bytes); }

// --- Trainer ------------------------------------------------------------------------------------------

resnorm::Trainer* make_trainer(const std::string& config_json, const std::string& text, const std::string& vocab) {
  return guard([&] { return new resnorm::Trainer(resnorm::config_from_string(config_json), text, vocab); });
}

// n steps, their statistics packed into doubles in a buffer that stays in wasm memory: a header of
// kHeader values (n, depth L, entropies E), then per step kStepFields scalars (step, loss, lr, grad_norm,
// ms, diverged) and block_grad_norm[L], block_act_rms[L], update_ratio[L], attn_entropy[E]. JavaScript
// gets a Float64Array view onto it (no copy, no JS object built field by field through emval, no
// allocation once the buffer has grown to the largest n asked for) and copies out what it keeps before
// its next call (web/src/engine/steps.mjs). The view is valid until the next call into the module.
// Divergence messages (rare) are fetched by index with stepMessage(). One buffer per module instance:
// calls are synchronous, and each worker has its own instance.
constexpr size_t kHeader = 3, kStepFields = 6;

struct Packed {
  std::vector<double> data;
  std::vector<std::string> messages;  // [n], empty unless that step diverged
};
Packed& packed() {
  static Packed p;
  return p;
}

val step(resnorm::Trainer& t, int n) {
  return guard([&] {
    Packed& p = packed();
    const resnorm::StepStats& last = t.last();
    const size_t L = last.block_grad_norm.size(), E = last.attn_entropy.size();
    const size_t stride = kStepFields + 3 * L + E, count = static_cast<size_t>(n > 0 ? n : 0);
    p.data.resize(kHeader + count * stride);
    p.messages.resize(count);
    p.data[0] = static_cast<double>(count), p.data[1] = static_cast<double>(L), p.data[2] = static_cast<double>(E);
    for (size_t i = 0; i < count; ++i) {
      const resnorm::StepStats& s = t.step();
      double* d = p.data.data() + kHeader + i * stride;
      d[0] = s.step, d[1] = s.loss, d[2] = s.lr, d[3] = s.grad_norm, d[4] = s.ms, d[5] = s.diverged ? 1 : 0;
      d += kStepFields;
      for (const std::vector<float>* v : {&s.block_grad_norm, &s.block_act_rms, &s.update_ratio, &s.attn_entropy})
        d = std::copy(v->begin(), v->end(), d);
      p.messages[i] = s.divergence;
    }
    return val(emscripten::typed_memory_view(p.data.size(), p.data.data()));
  });
}

std::string step_message(int i) {
  const Packed& p = packed();
  return i >= 0 && static_cast<size_t>(i) < p.messages.size() ? p.messages[static_cast<size_t>(i)] : std::string();
}

val evaluate(resnorm::Trainer& t) { return guard([&] { return to_js(t.evaluate()); }); }
int steps_done(const resnorm::Trainer& t) { return t.steps_done(); }
double num_params(const resnorm::Trainer& t) { return static_cast<double>(t.model().num_params()); }
double bytes(const resnorm::Trainer& t) { return static_cast<double>(t.bytes()); }
std::string config_json(const resnorm::Trainer& t) { return resnorm::config_to_json(t.config()).dump(); }
std::string vocab(const resnorm::Trainer& t) { return t.vocab(); }

val dataset(const resnorm::Trainer& t) {
  const resnorm::Dataset2D& d = t.dataset();
  val o = val::object();
  o.set("xTrain", f32_copy(d.x_train));
  o.set("yTrain", i32_copy(d.y_train));
  o.set("xTest", f32_copy(d.x_test));
  o.set("yTest", i32_copy(d.y_test));
  return o;
}

// The optimiser part of a whole config (JSON) is applied; the rest of it is validated and ignored.
void set_optim(resnorm::Trainer& t, const std::string& config_json) {
  guard([&] { t.set_optim(resnorm::config_from_string(config_json).optim); });
}

val grid(resnorm::Trainer& t, int res, float lo, float hi) {
  return guard([&] {
    std::vector<float> out(res > 0 && res <= 1024 ? static_cast<size_t>(res) * res : 0);
    t.predict_grid(out.data(), res, lo, hi);
    return f32_copy(out);
  });
}

val logits(resnorm::Trainer& t, const std::string& text) { return guard([&] { return f32_copy(t.logits(t.encode(text))); }); }

val attention(resnorm::Trainer& t, const std::string& text, int layer) {
  return guard([&] { return f32_copy(t.attention_map(t.encode(text), layer)); });
}

std::string sample(resnorm::Trainer& t, const std::string& prompt, int tokens, double temperature, int top_k, double seed) {
  return guard([&] { return t.sample(prompt, tokens, temperature, top_k, static_cast<uint32_t>(seed)); });
}

val save(resnorm::Trainer& t) { return guard([&] { return u8_copy(t.save()); }); }

void load(resnorm::Trainer& t, const val& bytes) {
  guard([&] {
    const std::vector<uint8_t> b = bytes_from_js(bytes);
    t.load(b.data(), b.size());
  });
}

// --- cnn (issue 11): the held-out digits and class probabilities for images from the page -------------

val held_out(const resnorm::Trainer& t) {
  const resnorm::Dataset2D& d = t.dataset();
  val o = val::object();
  o.set("x", f32_copy(d.x_test));
  o.set("y", i32_copy(d.y_test));
  o.set("dim", d.dim);
  return o;
}

// images: a Float32Array of n images [n, dim] (normalised as held_out's); returns [n, 10] probabilities.
val image_probs(resnorm::Trainer& t, const val& images) {
  return guard([&] {
    const std::vector<float> x = emscripten::convertJSArrayToNumberVector<float>(images);
    const auto dim = static_cast<size_t>(t.dataset().dim);
    if (dim == 0 || x.size() % dim != 0)
      throw resnorm::Error("probs: " + std::to_string(x.size()) + " pixels is not a whole number of " +
                           std::to_string(dim) + "-pixel images");
    return f32_copy(resnorm::cnn_probs(t, x.data(), static_cast<int>(x.size() / dim)));
  });
}

// image: a Float32Array of one image [dim]; returns {channels, h, data [channels, h, h]} after the block.
val feature_maps(resnorm::Trainer& t, const val& image, int block) {
  return guard([&] {
    const std::vector<float> x = emscripten::convertJSArrayToNumberVector<float>(image);
    if (x.size() != static_cast<size_t>(t.dataset().dim))
      throw resnorm::Error("features: " + std::to_string(x.size()) + " pixels is not one " +
                           std::to_string(t.dataset().dim) + "-pixel image");
    int c = 0, h = 0;
    const std::vector<float> f = resnorm::cnn_features(t, x.data(), block, &c, &h);
    val o = val::object();
    o.set("channels", c);
    o.set("h", h);
    o.set("data", f32_copy(f));
    return o;
  });
}

// --- free functions -----------------------------------------------------------------------------------

val preset_names() {
  val out = val::array();
  for (const std::string& n : resnorm::preset_names()) out.call<void>("push", n);
  return out;
}

std::string preset_json(const std::string& name) { return guard([&] { return resnorm::preset_json(name); }); }

// Validates a config and returns it with every default filled in (what `resnorm show` prints).
std::string normalize_config(const std::string& json) {
  return guard([&] { return resnorm::config_to_json(resnorm::config_from_string(json)).dump(); });
}

// Bytes a Trainer for this config would take, as Trainer::bytes() will report them (estimate_bytes; a gpt's
// vocabulary is the text's, as the Trainer builds it). The page checks it against one memory budget shared
// by every run of every widget in the document before it builds anything (web/src/engine/budget.ts).
double estimate_bytes(const std::string& config_json, const std::string& text) {
  return guard([&] {
    const resnorm::Config c = resnorm::config_from_string(config_json);
    const int vocab = c.is_gpt() && !text.empty() ? resnorm::CharData(text).vocab_size() : 0;
    return resnorm::estimate_bytes(c, vocab);
  });
}

// Inspection only (issue 12: a checkpoint from a bigger machine, e.g. the PyTorch twin, whose training run is
// over this page's memory cap): a gpt Trainer with the checkpoint's vocabulary, no text, and the activations
// of one sequence, as `resnorm sample` builds it. It samples and shows attention; step() refuses ("no
// training text loaded"). The config cap is not applied to the training batch; the Trainer checks that the
// inference-size model fits (checked_model in trainer.cpp).
resnorm::Trainer* make_inspector(const std::string& config_json, const std::string& vocab) {
  return guard([&] {
    const resnorm::Config c = resnorm::config_from_string(config_json, /*check_cap=*/false);
    if (!c.is_gpt())
      throw resnorm::Error("inspect: only a gpt checkpoint opens for inspection (an mlp or cnn that fits trains as usual)");
    if (vocab.empty()) throw resnorm::Error("inspect: the checkpoint has no vocabulary");
    return new resnorm::Trainer(c, "", vocab, c.model.context);
  });
}

// What make_inspector's Trainer takes: the training estimate at one sequence of rows.
double estimate_inspect_bytes(const std::string& config_json, int vocab_size) {
  return guard([&] {
    resnorm::Config c = resnorm::config_from_string(config_json, /*check_cap=*/false);
    c.optim.batch = 1;
    return resnorm::estimate_bytes(c, vocab_size);
  });
}

val checkpoint_info(const val& bytes) {
  return guard([&] {
    const std::vector<uint8_t> b = bytes_from_js(bytes);
    const resnorm::CheckpointInfo info = resnorm::read_checkpoint_info(b.data(), b.size());
    val o = val::object();
    o.set("config", resnorm::config_to_json(info.config).dump());
    o.set("vocab", info.vocab);
    o.set("step", info.step);
    return o;
  });
}

// The op pool's size (issue 13): more than 1 only in the pthreads build (resnorm-mt), whose workers the
// loader pre-spawns (PTHREAD_POOL_SIZE reads Module.poolSize); the single-thread build refuses n > 1.
void set_threads(int n) { guard([&] { resnorm::set_threads(n); }); }
int threads() { return resnorm::threads(); }

// Test hook: executes a wasm `unreachable`, the same trap a C++ bug would raise, so tests can check that
// the worker reports a crash and restarts.
void debug_trap() { __builtin_trap(); }

}  // namespace

EMSCRIPTEN_BINDINGS(resnorm) {
  using namespace emscripten;
  class_<resnorm::Trainer>("Trainer")
      .constructor(&make_trainer, allow_raw_pointers())
      .class_function("inspector", &make_inspector, allow_raw_pointers())
      .function("step", &step)
      .function("evaluate", &evaluate)
      .function("stepsDone", &steps_done)
      .function("numParams", &num_params)
      .function("bytes", &bytes)
      .function("configJson", &config_json)
      .function("vocab", &vocab)
      .function("dataset", &dataset)
      .function("setOptim", &set_optim)
      .function("grid", &grid)
      .function("logits", &logits)
      .function("attention", &attention)
      .function("sample", &sample)
      .function("save", &save)
      .function("load", &load)
      .function("heldOut", &held_out)
      .function("imageProbs", &image_probs)
      .function("featureMaps", &feature_maps);
  function("stepMessage", &step_message);
  function("presetNames", &preset_names);
  function("presetJson", &preset_json);
  function("normalizeConfig", &normalize_config);
  function("checkpointInfo", &checkpoint_info);
  function("estimateBytes", &estimate_bytes);
  function("estimateInspectBytes", &estimate_inspect_bytes);
  function("setThreads", &set_threads);
  function("threads", &threads);
  function("debugTrap", &debug_trap);
}

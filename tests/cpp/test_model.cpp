// Model structure: parameter layout and names, causality, no allocation in a train step.
#include <atomic>
#include <cmath>
#include <limits>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <new>
#include <vector>

#include "error.h"
#include "rng.h"
#include "sum_squares.h"
#include "trainer.h"
#include "testing.h"

using namespace resnorm;

// Counts heap allocations while a flag is set, through every allocator the project can reach:
// malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign, and operator new in all its forms
// (libstdc++ and libc++ implement new on top of malloc / aligned_alloc, so those are counted too; the
// negative-control test below checks each entry point).
//  * glibc (native) and Emscripten (wasm): the test binary defines the C entry points itself and
//    forwards to the C library's own allocator (its __libc_* entry points).
//  * AddressSanitizer owns malloc and would abort on a second definition, so its builds count
//    through the sanitizer's allocation hook, which sees every allocation of every kind.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocs{0};
std::atomic<long long> g_alloc_bytes{0};  // bytes requested while counting
inline void note_alloc(size_t bytes) {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_alloc_bytes.fetch_add(static_cast<long long>(bytes), std::memory_order_relaxed);
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// Declared here: GCC 12 ships libasan without its <sanitizer/allocator_interface.h> header.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, size_t),
                                                         void (*free_hook)(const volatile void*));
namespace {
void on_malloc(const volatile void*, size_t n) { note_alloc(n); }
void on_free(const volatile void*) {}
const int g_hooks_installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace
#elif defined(__GLIBC__) || defined(__EMSCRIPTEN__)
#include <cerrno>
extern "C" {
// The C library's own entry points: glibc exports __libc_*; Emscripten's dlmalloc exports the same
// __libc_* names (its public malloc & co. are weak aliases, so a program may replace them) and
// emscripten_builtin_memalign.
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
#if defined(__GLIBC__)
void* __libc_memalign(size_t, size_t);
#define RESNORM_REAL_MEMALIGN __libc_memalign
#else
void* emscripten_builtin_memalign(size_t, size_t);
#define RESNORM_REAL_MEMALIGN emscripten_builtin_memalign
#endif
#define RESNORM_REAL_MALLOC __libc_malloc
#define RESNORM_REAL_CALLOC __libc_calloc
#define RESNORM_REAL_REALLOC __libc_realloc
void* malloc(size_t n) { note_alloc(n); return RESNORM_REAL_MALLOC(n); }
void* calloc(size_t k, size_t n) { note_alloc(k * n); return RESNORM_REAL_CALLOC(k, n); }
void* realloc(void* p, size_t n) { note_alloc(n); return RESNORM_REAL_REALLOC(p, n); }
void* memalign(size_t a, size_t n) { note_alloc(n); return RESNORM_REAL_MEMALIGN(a, n); }
void* aligned_alloc(size_t a, size_t n) { note_alloc(n); return RESNORM_REAL_MEMALIGN(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  note_alloc(n);
  if (a < sizeof(void*) || (a & (a - 1)) != 0) return EINVAL;
  void* p = RESNORM_REAL_MEMALIGN(a, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}
#else
#error "the allocation-counting test knows glibc, Emscripten and AddressSanitizer builds only"
#endif

namespace {
// Keeps an allocation observable, so the compiler cannot elide a new/delete or malloc/free pair.
void* volatile g_sink = nullptr;
struct alignas(64) Wide { float v[16]; };
}  // namespace

TEST_CASE("the allocation counter sees every allocator (negative control)", "[model]") {
  struct Probe { const char* what; std::function<void()> run; };
  const Probe probes[] = {
      {"malloc", [] { g_sink = std::malloc(24); std::free(g_sink); }},
      {"calloc", [] { g_sink = std::calloc(3, 8); std::free(g_sink); }},
      {"realloc", [] { g_sink = std::realloc(nullptr, 40); std::free(g_sink); }},
      {"aligned_alloc", [] { g_sink = std::aligned_alloc(64, 128); std::free(g_sink); }},
      {"posix_memalign", [] { void* p = nullptr; REQUIRE(posix_memalign(&p, 64, 128) == 0); g_sink = p; std::free(p); }},
      {"operator new", [] { int* p = new int(3); g_sink = p; delete p; }},
      {"operator new[]", [] { auto* p = new float[9]; g_sink = p; delete[] p; }},
      {"aligned operator new", [] { auto* p = new Wide(); g_sink = p; delete p; }},
      {"std::vector", [] { std::vector<double> v(17, 1.0); g_sink = v.data(); }},
      {"resnorm::FloatBuffer (the project's aligned allocator)", [] { FloatBuffer b(33, 0.0f); g_sink = b.data(); }},
  };
  for (const Probe& p : probes) {
    INFO(p.what);
    g_allocs = 0;
    g_counting = true;
    p.run();
    g_counting = false;
    CHECK(g_allocs >= 1);
  }
}

TEST_CASE("gpt parameter layout matches the nanoGPT-style count and PyTorch names", "[model]") {
  Config c = preset("gpt-tiny");
  const int V = 65, C = 128, L = 4, T = 64;
  Model m(c.model, V, 12 * T);
  // wte + wpe + per layer (ln 2C, qkv 3C^2+3C, proj C^2+C, ln 2C, fc 4C^2+4C, proj 4C^2+C) + ln_f 2C + lm_head
  const size_t expect = static_cast<size_t>(V) * C + T * C + L * (12 * C * C + 13 * C) + 2 * C + V * C;
  CHECK(m.num_params() == expect);
  for (const char* name : {"wte.weight", "wpe.weight", "blocks.0.attn.norm_in.weight", "blocks.0.attn.qkv.weight",
                           "blocks.3.mlp.proj.bias", "norm_f.bias", "lm_head.weight"})
    CHECK(m.find(name) != nullptr);
  CHECK(m.find("blocks.0.attn.qkv.weight")->shape == std::vector<int>{3 * C, C});
  // Slices tile the flat block in order, without gaps.
  size_t off = 0;
  for (const Slice& s : m.slices()) {
    CHECK(s.offset == off);
    off += s.size;
  }
  CHECK(off == m.num_params());
}

TEST_CASE("placement decides which norms exist", "[model]") {
  ModelConfig mc;
  mc.depth = 2;
  mc.placement = Placement::Post;
  Model post(mc, 2, 4);
  CHECK(post.find("blocks.0.mlp.norm_out.weight"));
  CHECK_FALSE(post.find("blocks.0.mlp.norm_in.weight"));
  CHECK_FALSE(post.find("norm_f.weight"));
  mc.placement = Placement::Sandwich;
  mc.norm = NormKind::RmsNorm;
  Model sw(mc, 2, 4);
  CHECK(sw.find("blocks.1.mlp.norm_in.weight"));
  CHECK(sw.find("blocks.1.mlp.norm_out.weight"));
  CHECK_FALSE(sw.find("blocks.1.mlp.norm_out.bias"));  // RMSNorm has no bias
  CHECK(sw.find("norm_f.weight"));
  mc.norm = NormKind::None;
  mc.residual = Residual::ReZero;
  Model rz(mc, 2, 4);
  CHECK(rz.find("blocks.0.mlp.rezero"));
  CHECK_FALSE(rz.find("norm_f.weight"));
}

TEST_CASE("gpt is causal: a later token never changes earlier logits", "[model]") {
  Config c = preset("gpt-tiny");
  c.model.depth = 2;
  c.model.width = 32;
  c.model.context = 8;
  c.optim.batch = 1;
  Trainer tr(c, "abcdefghij klmnop\nqrstuvwxyz abc def ghi jkl mno pqr stu vwx yz. " + std::string(200, 'x'));
  std::vector<int> a = {1, 2, 3, 4, 5, 6}, b = a;
  b[4] = 9;
  const auto la = tr.logits(a), lb = tr.logits(b);
  const int V = tr.model().vocab();
  for (int i = 0; i < 4 * V; ++i) CHECK(la[i] == lb[i]);
  bool later_differs = false;
  for (int i = 4 * V; i < 6 * V; ++i) later_differs = later_differs || la[i] != lb[i];
  CHECK(later_differs);
}

TEST_CASE("after the first step, a train step allocates nothing", "[model]") {
  for (const char* name : {"mlp-residual-deep", "gpt-tiny"}) {
    INFO(name);
    Config c = preset(name);
    if (c.is_gpt()) { c.model.depth = 2; c.optim.batch = 2; }
    std::string text;
    if (c.is_gpt()) for (int i = 0; i < 2000; ++i) text += static_cast<char>('a' + (i * 7) % 26);
    Trainer tr(c, text);
    tr.step();
    g_allocs = 0;
    g_counting = true;
    for (int i = 0; i < 3; ++i) tr.step();
    g_counting = false;
    CHECK(g_allocs == 0);
  }
}

TEST_CASE("the memory estimate is what a trainer allocates, for every setting", "[model]") {
  // estimate_bytes() is checked against the cap before allocation; it must be the real layout. The
  // heap's own count of bytes requested while a Trainer is built must cover it (nothing allocated
  // that the estimate misses, beyond the data and bookkeeping: a few KiB here) and Trainer::bytes(),
  // the sizes of the buffers it holds, must equal it exactly.
  std::string text;
  for (int i = 0; i < 3000; ++i) text += static_cast<char>('a' + (i * 7) % 26);
  for (const bool gpt : {false, true})
    for (OptimName opt : {OptimName::AdamW, OptimName::Sgd})
      resnorm_test::for_each_setting(gpt ? ModelKind::Gpt : ModelKind::Mlp, [&](const resnorm_test::Setting& s) {
        Config c = preset(gpt ? "gpt-tiny" : "mlp-spiral");
        c.model.depth = gpt ? 3 : 5;
        c.model.width = 64;
        s.apply(c.model);
        c.optim.name = opt;
        c.optim.batch = gpt ? 4 : 300;
        INFO((gpt ? "gpt " : "mlp ") << to_string(opt) << " " << s.name());
        g_alloc_bytes = 0;
        g_counting = true;
        const auto* tr = new Trainer(c, gpt ? text : "");
        g_counting = false;
        const double estimate = estimate_bytes(c, tr->model().vocab());
        const auto heap = static_cast<double>(g_alloc_bytes.load());
        INFO("estimate " << estimate << " B, Trainer::bytes " << tr->bytes() << " B, heap " << heap << " B");
        CHECK(static_cast<double>(tr->bytes()) == estimate);
        // The overflow guard's bound stays above the exact figure, and close to it (so no config
        // under the cap is refused on the bound alone).
        CHECK(bytes_upper_bound(c, tr->model().vocab()) >= estimate);
        CHECK(bytes_upper_bound(c, tr->model().vocab()) <= 2.0 * estimate);
        CHECK(heap >= estimate);
        CHECK(heap <= estimate + 64 * 1024 + 16.0 * static_cast<double>(text.size()));
        delete tr;
      });
}

TEST_CASE("an inference-only gpt trainer holds what one sequence's training estimate says", "[model]") {
  // `resnorm sample` and the playground's inspector (estimateInspectBytes: the estimate at optim.batch = 1)
  // build a gpt Trainer with a vocabulary, no text and one sequence of rows, whatever the config's batch.
  Config c = preset("gpt-tiny");
  c.model.depth = 3;
  c.model.width = 64;
  c.optim.batch = 48;
  const std::string vocab = " .abcdefghijklmnopqrstuvwxyz";
  Trainer tr(c, "", vocab, c.model.context);
  Config one = c;
  one.optim.batch = 1;
  CHECK(static_cast<double>(tr.bytes()) == estimate_bytes(one, static_cast<int>(vocab.size())));
  CHECK_THROWS_WITH(tr.step(), Catch::Contains("no training text"));
}

TEST_CASE("cnn: the memory estimate is what a trainer allocates, and a train step allocates nothing", "[model]") {
  const std::string& digits = resnorm_test::digits_asset();
  REQUIRE(!digits.empty());  // built by scripts/make-digits.mjs (CMake target digits_asset)
  for (OptimName opt : {OptimName::AdamW, OptimName::Sgd})
    resnorm_test::for_each_setting(ModelKind::Cnn, [&](const resnorm_test::Setting& s) {
      Config c = preset("cnn-digits");
      c.model.depth = 2;
      c.model.width = 4;
      s.apply(c.model);
      c.optim.name = opt;
      c.optim.batch = 6;
      INFO("cnn " << to_string(opt) << " " << s.name());
      g_alloc_bytes = 0;
      g_counting = true;
      auto* tr = new Trainer(c, digits);
      g_counting = false;
      const double estimate = estimate_bytes(c, 0);
      const auto heap = static_cast<double>(g_alloc_bytes.load());
      // The digits themselves (grown by push_back, so up to 3x their size at the peak) and the split's index.
      const double data = 4.0 * static_cast<double>(tr->dataset().x_train.size() + tr->dataset().x_test.size()) * 3 + 8.0 * 10000;
      INFO("estimate " << estimate << " B, Trainer::bytes " << tr->bytes() << " B, heap " << heap << " B");
      CHECK(static_cast<double>(tr->bytes()) == estimate);
      CHECK(bytes_upper_bound(c, 0) >= estimate);
      CHECK(heap >= estimate);
      CHECK(heap <= estimate + 64 * 1024 + data);
      tr->step();
      g_allocs = 0;
      g_counting = true;
      for (int i = 0; i < 2; ++i) tr->step();
      g_counting = false;
      CHECK(g_allocs == 0);
      delete tr;
    });
}

TEST_CASE("a config over the memory cap is refused before anything is allocated", "[model]") {
  Config c = preset("mlp-spiral");
  c.model.depth = 512;
  c.model.width = 4096;
  c.optim.batch = 4096;
  REQUIRE(estimate_bytes(c, 2) > kMaxModelBytes);
  g_alloc_bytes = 0;
  g_counting = true;
  bool refused = false;
  try {
    Trainer tr(c);
  } catch (const Error& e) {
    refused = std::string(e.what()).find("memory cap") != std::string::npos;
  }
  g_counting = false;
  CHECK(refused);
  // The dataset, the message and the plan (a name and offsets per tensor: ~1 MB at depth 512),
  // not the model's 400 GiB.
  CHECK(g_alloc_bytes < 16 << 20);
}

// The backward zeroes only the rows of the activation gradients that the batch uses (issue 13: an mlp's
// capacity is 256 rows, its batch 32). If it zeroed too few, the second backward of the same batch would
// add the first one's leftovers: the gradients would differ.
TEST_CASE("the same batch twice gives the same gradients (activation gradients start from zero)", "[model]") {
  for (const char* name : {"mlp-spiral", "mlp-residual-deep", "gpt-tiny"}) {
    INFO(name);
    Config c = preset(name);
    if (c.is_gpt()) { c.model.depth = 2; c.optim.batch = 3; }
    const int V = c.is_gpt() ? 11 : 2, B = c.is_gpt() ? 2 : 7, T = c.is_gpt() ? 5 : 1;  // fewer rows than the capacity
    Model m(c.model, V, c.is_gpt() ? c.optim.batch * c.model.context : 256);
    m.init(5);
    std::vector<float> points(2 * static_cast<size_t>(B));
    std::vector<int> tokens(static_cast<size_t>(B * T)), targets(static_cast<size_t>(B * T));
    for (size_t i = 0; i < points.size(); ++i) points[i] = 0.3f * static_cast<float>(i % 5) - 0.6f;
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int>((3 * i + 1) % V), targets[i] = static_cast<int>((5 * i + 2) % V);
    std::vector<std::vector<float>> grads;
    for (int pass = 0; pass < 2; ++pass) {
      m.forward(c.is_gpt() ? nullptr : points.data(), c.is_gpt() ? tokens.data() : nullptr, targets.data(), B, T);
      m.zero_grad();
      m.backward();
      grads.emplace_back(m.grads(), m.grads() + m.num_params());
    }
    size_t differ = 0;
    for (size_t i = 0; i < m.num_params(); ++i) differ += grads[0][i] != grads[1][i];
    CHECK(differ == 0);
  }
}

TEST_CASE("sum_squares: the sum of squares at every length, the blocks' edges and the tail included", "[model]") {
  Rng rng(9, 1);
  std::vector<float> x(1001);
  for (float& v : x) v = rng.uniform(-3.0f, 3.0f);
  // Float partial sums of 8 squares per lane and block: 1e-6 relative bounds their rounding; one element
  // left out or counted twice moves the sum by ~1e-3 of itself at n = 1001.
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{8}, size_t{9}, size_t{23}, size_t{63}, size_t{64},
                   size_t{65}, size_t{71}, size_t{127}, size_t{128}, size_t{129}, size_t{1001}}) {
    INFO("n = " << n);
    long double ref = 0;
    for (size_t i = 0; i < n; ++i) ref += static_cast<long double>(x[i]) * x[i];
    const double got = sum_squares(x.data(), n);
    CHECK(std::fabs(static_cast<double>(got - ref)) <= 1e-6 * static_cast<double>(ref) + 1e-300);
    if (n) CHECK(got > 0);
  }
  // A diverging run's gradients: finite floats whose squares overflow float. Their sum is finite (and
  // right) in double, so the trainer reports the gradient as huge, not as "not finite"; a NaN stays NaN.
  std::vector<float> big(200, 1.0f);
  big[70] = 3e30f;
  const double want = 9e60 + 199.0;
  CHECK(std::fabs(sum_squares(big.data(), big.size()) - want) <= 1e-6 * want);
  big[70] = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(sum_squares(big.data(), big.size())));
}

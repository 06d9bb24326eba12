// safetensors writing and strict reading.
#include "checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.h"
#include "data.h"
#include "json.h"

namespace resnorm {

const TensorEntry* SafetensorsView::find(const std::string& name) const {
  auto it = std::lower_bound(by_name.begin(), by_name.end(), name,
                             [&](size_t i, const std::string& k) { return tensors[i].name < k; });
  return it != by_name.end() && tensors[*it].name == name ? &tensors[*it] : nullptr;
}

std::vector<uint8_t> write_safetensors(const std::vector<Slice>& slices, const float* params,
                                       const std::map<std::string, std::string>& metadata,
                                       const std::vector<TensorGroup>& extra,
                                       const std::vector<Slice>& buffer_slices, const float* buffers) {
  Json header = Json::object();
  Json meta = Json::object();
  for (const auto& kv : metadata) meta.set(kv.first, Json::string(kv.second));
  header.set("__metadata__", meta);
  size_t off = 0;
  std::vector<TensorGroup> groups{{"", params}};
  groups.insert(groups.end(), extra.begin(), extra.end());
  for (const TensorGroup& g : groups)
  for (const Slice& s : slices) {
    Json t = Json::object();
    t.set("dtype", Json::string("F32"));
    Json shape = Json::array();
    for (int d : s.shape) shape.push(Json::number(d));
    t.set("shape", shape);
    Json range = Json::array();
    range.push(Json::number(static_cast<double>(off)));
    range.push(Json::number(static_cast<double>(off + s.size * 4)));
    t.set("data_offsets", range);
    header.set(g.prefix + s.name, t);
    off += s.size * 4;
  }
  const size_t params_bytes = off;
  for (const Slice& s : buffer_slices) {
    const size_t width = s.i64 ? 8 : 4;
    Json t = Json::object();
    t.set("dtype", Json::string(s.i64 ? "I64" : "F32"));
    Json shape = Json::array();
    for (int d : s.shape) shape.push(Json::number(d));
    t.set("shape", shape);
    Json range = Json::array();
    range.push(Json::number(static_cast<double>(off)));
    range.push(Json::number(static_cast<double>(off + s.size * width)));
    t.set("data_offsets", range);
    header.set(s.name, t);
    off += s.size * width;
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';  // the format allows trailing spaces; 8-byte alignment for the data
  std::vector<uint8_t> out(8 + h.size() + off);
  const uint64_t hn = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(hn >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  uint8_t* data = out.data() + 8 + h.size();
  const size_t group_bytes = params_bytes / groups.size();  // each group is the whole parameter block
  for (size_t k = 0; k < groups.size(); ++k)
    for (const Slice& s : slices)  // little-endian hosts
      std::memcpy(data + k * group_bytes + s.offset * 4, groups[k].base + s.offset, s.size * 4);
  size_t pos = params_bytes;
  for (const Slice& s : buffer_slices) {
    for (size_t i = 0; i < s.size; ++i) {
      if (s.i64) {
        const auto v = static_cast<int64_t>(buffers[s.offset + i]);
        std::memcpy(data + pos, &v, 8);
        pos += 8;
      } else {
        std::memcpy(data + pos, buffers + s.offset + i, 4);
        pos += 4;
      }
    }
  }
  return out;
}

namespace {
// The header length in the first 8 bytes of a file of n bytes (n >= 8), checked.
uint64_t header_length(const uint8_t* bytes, uint64_t n) {
  uint64_t hn = 0;
  for (int i = 0; i < 8; ++i) hn |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (hn < 2 || hn > n - 8)
    throw Error("checkpoint: header length " + std::to_string(hn) + " does not fit a file of " + std::to_string(n) +
                " bytes (truncated or not a safetensors file)");
  if (hn > kMaxCheckpointHeader)
    throw Error("checkpoint: header length " + std::to_string(hn) + " is over the " +
                std::to_string(kMaxCheckpointHeader >> 20) + " MiB a resnorm checkpoint's header can take");
  return hn;
}
void too_short(uint64_t n) {
  if (n < 8) throw Error("checkpoint: file is " + std::to_string(n) + " bytes, too short for a safetensors header");
}
}  // namespace

SafetensorsView parse_safetensors(const uint8_t* bytes, size_t n) {
  SafetensorsView v = parse_safetensors_header(bytes, n, n);
  v.data = bytes + (n - v.data_size);
  return v;
}

SafetensorsView parse_safetensors_header(const uint8_t* bytes, size_t n, uint64_t file_size) {
  too_short(file_size);
  const uint64_t hn = header_length(bytes, file_size);
  if (n < 8 + hn) throw Error("checkpoint: internal error: the header was not read whole");
  Json header;
  try {
    header = parse_json(std::string(reinterpret_cast<const char*>(bytes) + 8, static_cast<size_t>(hn)));
  } catch (const Error& e) {
    throw Error(std::string("checkpoint: header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw Error("checkpoint: header must be a JSON object");
  SafetensorsView v;
  const uint64_t data_size = file_size - 8 - hn;  // may exceed size_t in 32-bit WebAssembly: checked last
  for (const auto& kv : header.members()) {
    if (kv.first == "__metadata__") {
      if (!kv.second.is_object()) throw Error("checkpoint: __metadata__ must be an object");
      for (const auto& m : kv.second.members()) {
        if (!m.second.is_string()) throw Error("checkpoint: metadata \"" + m.first + "\" must be a string");
        v.metadata[m.first] = m.second.as_string();
      }
      continue;
    }
    const Json& t = kv.second;
    const std::string where = "checkpoint: tensor \"" + kv.first + "\"";
    if (!t.is_object()) throw Error(where + " must be an object");
    const Json* dtype = t.find("dtype");
    const Json* shape = t.find("shape");
    const Json* offs = t.find("data_offsets");
    if (!dtype || !dtype->is_string()) throw Error(where + " has no dtype");
    const bool counter = kv.first.size() > 20 && kv.first.compare(kv.first.size() - 20, 20, ".num_batches_tracked") == 0;
    const bool i64 = dtype->as_string() == "I64";
    if (dtype->as_string() != "F32" && !(i64 && counter))
      throw Error(where + " has dtype " + dtype->as_string() + " (only F32 is supported, and I64 for num_batches_tracked)");
    if (!shape || !shape->is_array()) throw Error(where + " has no shape");
    if (!offs || !offs->is_array() || offs->items().size() != 2) throw Error(where + " has no data_offsets pair");
    TensorEntry e;
    e.name = kv.first;
    double count = 1;
    for (const Json& d : shape->items()) {
      if (!d.is_number() || d.as_number() < 0 || d.as_number() != std::floor(d.as_number()) || d.as_number() > 1e9)
        throw Error(where + " has a bad shape entry " + d.dump());
      e.shape.push_back(static_cast<int>(d.as_number()));
      count *= d.as_number();
    }
    const double b = offs->items()[0].is_number() ? offs->items()[0].as_number() : -1;
    const double en = offs->items()[1].is_number() ? offs->items()[1].as_number() : -1;
    if (b < 0 || en < b || b != std::floor(b) || en != std::floor(en))
      throw Error(where + " has bad data_offsets " + offs->dump());
    if (en > static_cast<double>(data_size))
      throw Error(where + " ends at byte " + format_number(en) + " but the data section has only " +
                  std::to_string(data_size) + " bytes (truncated file)");
    if (en - b != count * (i64 ? 8 : 4))
      throw Error(where + " has " + format_number(en - b) + " bytes for a shape of " + format_number(count) +
                  (i64 ? " int64 values" : " floats"));
    e.i64 = i64;
    if (en > static_cast<double>(SIZE_MAX)) throw Error("checkpoint: file too large for this machine");
    e.begin = static_cast<size_t>(b);
    e.end = static_cast<size_t>(en);
    v.tensors.push_back(e);
  }
  // Ranges must tile the data section exactly: no overlaps, no gaps (as the format requires).
  std::vector<const TensorEntry*> order;
  for (const auto& t : v.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorEntry* a, const TensorEntry* b) { return a->begin < b->begin; });
  uint64_t pos = 0;
  for (const TensorEntry* t : order) {
    if (t->begin != pos) throw Error("checkpoint: tensor \"" + t->name + "\" overlaps another or leaves a gap");
    pos = t->end;
  }
  if (pos != data_size)
    throw Error("checkpoint: " + std::to_string(data_size - pos) + " trailing bytes after the last tensor");
  if (data_size > SIZE_MAX) throw Error("checkpoint: file too large for this machine");
  v.data_size = static_cast<size_t>(data_size);
  v.by_name.resize(v.tensors.size());
  for (size_t i = 0; i < v.by_name.size(); ++i) v.by_name[i] = i;
  std::sort(v.by_name.begin(), v.by_name.end(), [&](size_t a, size_t b) { return v.tensors[a].name < v.tensors[b].name; });
  return v;
}

void put_vocab_metadata(std::map<std::string, std::string>& meta, const std::string& vocab_utf8) {
  Json v = Json::array();
  for (char32_t c : utf8_decode(vocab_utf8, "vocabulary")) v.push(Json::number(static_cast<double>(c)));
  meta["vocab"] = v.dump();
  meta["vocab_format"] = "codepoints";
}

std::string vocab_from_metadata(const std::map<std::string, std::string>& meta) {
  auto it = meta.find("vocab");
  if (it == meta.end()) throw Error("checkpoint: metadata has no \"vocab\" (not saved by resnorm?)");
  auto f = meta.find("vocab_format");
  const bool bytes = f == meta.end();
  if (!bytes && f->second != "codepoints")
    throw Error("checkpoint: unknown vocab_format \"" + f->second + "\" (known: codepoints, or none for bytes)");
  Json v;
  try {
    v = parse_json(it->second);
  } catch (const Error&) {
    throw Error("checkpoint: vocab metadata is not valid JSON");
  }
  const size_t cap = bytes ? 256 : static_cast<size_t>(kMaxVocab);
  const double top = bytes ? 255 : 0x10FFFF;
  if (!v.is_array() || v.items().size() < 2 || v.items().size() > cap)
    throw Error(std::string("checkpoint: vocab must be 2..") + std::to_string(cap) + (bytes ? " byte values" : " code points"));
  std::string out;
  for (const Json& c : v.items()) {
    const double x = c.is_number() ? c.as_number() : -1;
    if (x < 0 || x > top || x != std::floor(x) || (x >= 0xD800 && x <= 0xDFFF))
      throw Error(std::string("checkpoint: vocab holds a bad ") + (bytes ? "byte value " : "code point ") + c.dump());
    utf8_append(out, static_cast<char32_t>(x));
  }
  checked_vocab(out, "checkpoint: vocab");  // sorted, no repeats
  return out;
}

CheckpointInfo checkpoint_info(const SafetensorsView& view) {
  auto get = [&](const char* key) -> const std::string& {
    auto it = view.metadata.find(key);
    if (it == view.metadata.end()) throw Error(std::string("checkpoint: metadata has no \"") + key + "\" (not saved by resnorm?)");
    return it->second;
  };
  if (get("format") != "resnorm-safetensors-1") throw Error("checkpoint: unknown format \"" + get("format") + "\"");
  CheckpointInfo info;
  try {
    // Without the memory cap: a checkpoint may come from a larger machine (the PyTorch twin); the Trainer
    // built for it checks what it allocates (a training batch, or one sequence for `resnorm sample`).
    info.config = config_from_string(get("config"), /*check_cap=*/false);
  } catch (const Error& e) {
    throw Error(std::string("checkpoint: its config is invalid: ") + e.what());
  }
  const std::string& step = get("step");
  char* end = nullptr;
  const long s = std::strtol(step.c_str(), &end, 10);
  if (step.empty() || *end || s < 0 || s > 1000000000) throw Error("checkpoint: bad step \"" + step + "\"");
  info.step = static_cast<int>(s);
  if (info.config.is_gpt()) info.vocab = vocab_from_metadata(view.metadata);
  return info;
}

namespace {
std::string shape_str(const std::vector<int>& v) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + std::to_string(v[i]);
  return o + "]";
}

// A parameter's name when `name` is optimiser state (prefix + parameter), else empty.
std::string state_of(const std::string& name) {
  for (const char* prefix : {kExpAvgPrefix, kExpAvgSqPrefix, kMomentumPrefix}) {
    const size_t n = std::strlen(prefix);
    if (name.compare(0, n, prefix) == 0) return name.substr(n);
  }
  return "";
}

// Every slice present with its shape, and no other tensor than optimiser state of a slice, of its shape.
void check_tensors(const SafetensorsView& view, const std::vector<Slice>& slices, const std::vector<Slice>& buffer_slices = {}) {
  std::vector<const std::string*> names;
  names.reserve(slices.size() + buffer_slices.size());
  for (const auto* list : {&slices, &buffer_slices})
    for (const Slice& s : *list) {
      const TensorEntry* t = view.find(s.name);
      if (!t) throw Error("checkpoint: tensor \"" + s.name + "\" is missing");
      if (t->shape != s.shape)
        throw Error("checkpoint: tensor \"" + s.name + "\" has shape " + shape_str(t->shape) + ", the model expects " +
                    shape_str(s.shape));
      if (t->i64 != s.i64)
        throw Error("checkpoint: tensor \"" + s.name + "\" has dtype " + (t->i64 ? "I64" : "F32") + ", the model expects " +
                    (s.i64 ? "I64" : "F32"));
      names.push_back(&s.name);
    }
  std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const auto& t : view.tensors) {
    auto less = [](const std::string* a, const std::string* b) { return *a < *b; };
    if (std::binary_search(names.begin(), names.end(), &t.name, less)) continue;
    const std::string param = state_of(t.name);
    const bool known = !param.empty() && std::binary_search(names.begin(), names.end(), &param, less);
    if (!known) throw Error("checkpoint: unexpected tensor \"" + t.name + "\" (does the config match?)");
    const TensorEntry* pt = view.find(param);
    if (t.shape != pt->shape)
      throw Error("checkpoint: tensor \"" + t.name + "\" has shape " + shape_str(t.shape) + ", its parameter has " +
                  shape_str(pt->shape));
  }
}
// check_tensors over the parameters, allowing BatchNorm buffers (checked by load_buffers) beside them.
void check_tensors_params_only(const SafetensorsView& view, const std::vector<Slice>& slices) {
  std::vector<Slice> buffers;
  for (const auto& t : view.tensors) {
    const bool buffer = t.i64 || t.name.find(".running_mean") != std::string::npos || t.name.find(".running_var") != std::string::npos;
    if (!buffer) continue;
    Slice b;
    b.name = t.name;
    b.shape = t.shape;
    b.i64 = t.i64;
    buffers.push_back(b);
  }
  check_tensors(view, slices, buffers);
}
}  // namespace

// The rule when a checkpoint's config and a run's disagree: the checkpoint's model section defines
// the model its tensors belong to. A run that loads it must have the very same model section; any
// field that differs, whether or not a tensor shape would show it, refuses the file naming the field.
CheckpointInfo check_checkpoint_fits(const SafetensorsView& view, const Config& cfg, const std::string& vocab,
                                     const std::vector<Slice>& slices, const std::vector<Slice>& buffer_slices) {
  CheckpointInfo info = checkpoint_info(view);
  const Json mine = config_to_json(cfg), theirs = config_to_json(info.config);
  const Json* a = mine.find("model");
  const Json* b = theirs.find("model");
  for (const auto& kv : a->members()) {
    const Json* other = b->find(kv.first);
    if (other->dump() != kv.second.dump())
      throw Error("checkpoint: it was saved with model." + kv.first + " = " + other->dump() + ", this run has " +
                  kv.second.dump());
  }
  if (cfg.is_gpt() && info.vocab != vocab)
    throw Error("checkpoint: its vocabulary (" + std::to_string(utf8_decode(info.vocab, "vocabulary").size()) +
                " characters) differs from this run's text (" + std::to_string(utf8_decode(vocab, "vocabulary").size()) +
                ")");
  check_tensors(view, slices, buffer_slices);
  return info;
}

void load_buffers(const SafetensorsView& view, const std::vector<Slice>& params, const std::vector<Slice>& buffer_slices,
                  float* buffers) {
  check_tensors(view, params, buffer_slices);
  for (int pass = 0; pass < 2; ++pass)  // check everything first, then copy: a bad file changes nothing
    for (const Slice& s : buffer_slices) {
      const uint8_t* src = view.data + view.find(s.name)->begin;
      for (size_t i = 0; i < s.size; ++i) {
        float f;
        if (s.i64) {
          int64_t v;
          std::memcpy(&v, src + 8 * i, 8);
          if (v < 0 || v > (int64_t{1} << 24))
            throw Error("checkpoint: tensor \"" + s.name + "\" holds " + std::to_string(v) + " (allowed: 0..16777216)");
          f = static_cast<float>(v);
        } else {
          std::memcpy(&f, src + 4 * i, 4);
          if (!std::isfinite(f) || (s.name.size() > 12 && s.name.compare(s.name.size() - 12, 12, ".running_var") == 0 && f < 0))
            throw Error("checkpoint: tensor \"" + s.name + "\" holds a bad value " + format_number(f) + " at index " +
                        std::to_string(i));
        }
        if (pass == 1) buffers[s.offset + i] = f;
      }
    }
}

void load_tensors(const SafetensorsView& view, const std::vector<Slice>& slices, float* params) {
  // Buffers (BatchNorm's statistics) may sit beside the parameters; load_buffers checks and reads them.
  check_tensors_params_only(view, slices);
  if (!view.data && !slices.empty()) throw Error("checkpoint: internal error: the data section was not read");
  for (const Slice& s : slices) {
    const auto* src = view.data + view.find(s.name)->begin;
    for (size_t i = 0; i < s.size; ++i) {
      float f;
      std::memcpy(&f, src + 4 * i, 4);
      if (!std::isfinite(f))
        throw Error("checkpoint: tensor \"" + s.name + "\" holds a non-finite value at index " + std::to_string(i));
    }
  }
  for (const Slice& s : slices) std::memcpy(params + s.offset, view.data + view.find(s.name)->begin, s.size * 4);
}

bool has_optimizer_state(const SafetensorsView& view, const std::vector<Slice>& slices, const std::string& optim) {
  auto it = view.metadata.find("optim_state");
  if (it == view.metadata.end() || it->second != optim) return false;
  std::vector<const char*> prefixes{kMomentumPrefix};
  if (optim == "adamw") prefixes = {kExpAvgPrefix, kExpAvgSqPrefix};
  for (const char* prefix : prefixes)
    for (const Slice& s : slices) {
      const std::string name = prefix + s.name;
      const TensorEntry* t = view.find(name);
      if (!t) throw Error("checkpoint: optimiser state tensor \"" + name + "\" is missing (optim_state = " + optim + ")");
      if (t->shape != s.shape) throw Error("checkpoint: tensor \"" + name + "\" has the wrong shape");
      if (view.data)
        for (size_t i = 0; i < s.size; ++i) {
          float f;
          std::memcpy(&f, view.data + t->begin + 4 * i, 4);
          if (!std::isfinite(f))
            throw Error("checkpoint: tensor \"" + name + "\" holds a non-finite value at index " + std::to_string(i));
          // AdamW's second moment is a running mean of squared gradients: never negative (a negative one
          // makes sqrt(v) NaN at the first update; issue 21).
          if (f < 0 && prefix == kExpAvgSqPrefix)
            throw Error("checkpoint: tensor \"" + name + "\" holds a negative value " + format_number(f) + " at index " +
                        std::to_string(i) + " (a second moment is a mean of squares, never negative)");
        }
    }
  return true;
}

void load_tensor_group(const SafetensorsView& view, const std::vector<Slice>& slices, const std::string& prefix,
                       float* base) {
  for (const Slice& s : slices) std::memcpy(base + s.offset, view.data + view.find(prefix + s.name)->begin, s.size * 4);
}

namespace {
std::string reason() { return std::strerror(errno); }

// The process's umask (read by setting and restoring it): mkstemp creates 0600, a checkpoint is 0644 less it.
mode_t current_umask() {
  const mode_t m = ::umask(0);
  ::umask(m);
  return m;
}

// An open file descriptor, closed on every path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens path for reading; refuses a directory and anything else that is not a regular file (a FIFO,
// a device, a socket), which could block or never end. O_NONBLOCK: opening a FIFO with no writer
// returns at once instead of waiting for one (issue 21); it changes nothing for a regular file.
void open_for_reading(const std::string& path, Fd& f, struct stat& st) {
  f.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (f.fd < 0) throw Error("cannot open \"" + printable(path) + "\": " + reason());
  if (::fstat(f.fd, &st) != 0) throw Error("cannot open \"" + printable(path) + "\": " + reason());
  if (S_ISDIR(st.st_mode)) throw Error("\"" + printable(path) + "\" is a directory, not a file");
  if (!S_ISREG(st.st_mode))
    throw Error("\"" + printable(path) + "\" is not a regular file (" +
                (S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device" : S_ISBLK(st.st_mode) ? "a block device" : S_ISSOCK(st.st_mode) ? "a socket" : "a special file") +
                "); give a file");
}

// Reads up to n bytes at out; returns how many (fewer only at the end of the file).
size_t read_some(int fd, uint8_t* out, size_t n, const std::string& path) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, out + got, std::min<size_t>(n - got, size_t(1) << 30));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Error("cannot read \"" + printable(path) + "\": " + reason());
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}
}  // namespace

std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes, const char* what) {
  Fd f;
  struct stat st {};
  open_for_reading(path, f, st);
  auto too_long = [&] {
    return Error("\"" + printable(path) + "\" is over " + std::to_string(max_bytes) + " bytes, the most a " + what + " may have");
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) throw too_long();  // from the size, before reading
  std::vector<uint8_t> bytes;
  size_t got = 0;
  while (true) {  // the size is known, but the file may grow while it is read
    if (bytes.size() - got < 65536) bytes.resize(std::max<size_t>(bytes.size() * 2, got + 65536));
    const size_t want = bytes.size() - got;
    const size_t r = read_some(f.fd, bytes.data() + got, want, path);
    got += r;
    if (got > max_bytes) throw too_long();
    if (r < want) break;
  }
  bytes.resize(got);
  bytes.shrink_to_fit();
  return bytes;
}

std::vector<uint8_t> read_checkpoint_file(const std::string& path, const std::function<void(const SafetensorsView&)>& check) {
  Fd f;
  struct stat st {};
  open_for_reading(path, f, st);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  too_short(size);
  std::vector<uint8_t> bytes(8);
  if (read_some(f.fd, bytes.data(), 8, path) < 8) too_short(0);
  const uint64_t hn = header_length(bytes.data(), size);
  bytes.resize(8 + hn);
  if (read_some(f.fd, bytes.data() + 8, hn, path) < hn)
    throw Error("checkpoint: \"" + printable(path) + "\" changed while it was read");
  const SafetensorsView view = parse_safetensors_header(bytes.data(), bytes.size(), size);
  if (check) check(view);
  if (size > SIZE_MAX) throw Error("checkpoint: file too large for this machine");
  bytes.resize(static_cast<size_t>(size));
  if (read_some(f.fd, bytes.data() + 8 + hn, static_cast<size_t>(size - 8 - hn), path) < size - 8 - hn)
    throw Error("checkpoint: \"" + printable(path) + "\" changed while it was read");
  return bytes;
}

namespace {
// The folder holding path, and path's last component.
std::pair<std::string, std::string> split_path(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

#ifndef __EMSCRIPTEN__
// Removes temporaries of earlier saves to the same path whose writer is gone (a kill -9 mid-save):
// NAME.tmp.PID.XXXXXX in NAME's folder, a regular file (not followed through a link) owned by this user,
// whose PID is no running process. A live writer's file, another user's, or anything not named so is
// left alone; a name whose PID was reused by a live process waits for a later save.
void remove_stale_temporaries(const std::string& path) {
  const auto [dir, base] = split_path(path);
  const std::string prefix = base + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // PID.XXXXXX
    const size_t dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || dot > 10 || rest.size() - dot - 1 != 6) continue;
    if (rest.find_first_not_of("0123456789") != dot) continue;
    const long pid = std::strtol(rest.substr(0, dot).c_str(), nullptr, 10);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to know
    struct stat st {};
    const std::string full = dir + "/" + name;
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) continue;
    ::unlink(full.c_str());
  }
  ::closedir(d);
}
#endif
}  // namespace

void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
#ifndef __EMSCRIPTEN__
  remove_stale_temporaries(path);
#endif
  // A temporary of its own in path's folder (NAME.tmp.PID.XXXXXX, mkstemp: created exclusively), so two
  // processes saving to one path never write into one file: each renames a whole file of its own over
  // path, the last one wins, and each "saved" is true when it is printed (issue 21).
  std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid())) + ".XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  tmp = name.data();
  if (fd < 0) throw Error("cannot write \"" + printable(tmp) + "\": " + reason());
  ::fchmod(fd, 0644 & ~current_umask());
  auto fail = [&](const std::string& what) {
    const std::string why = reason();
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return Error(what + ": " + why);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, std::min<size_t>(bytes.size() - done, size_t(1) << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw fail("writing \"" + printable(tmp) + "\" failed (disk full?)");
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) throw fail("writing \"" + printable(tmp) + "\" failed (fsync)");
  if (::close(fd) != 0) {
    const std::string why = reason();
    ::unlink(tmp.c_str());
    throw Error("writing \"" + printable(tmp) + "\" failed: " + why);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = reason();
    ::unlink(tmp.c_str());
    throw Error("cannot replace \"" + printable(path) + "\": " + why);
  }
  // The rename itself reaches the disk with the folder's entry; a failure here loses nothing already written.
  const int dfd = ::open(split_path(path).first.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void check_writable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw Error("\"" + printable(path) + "\" is a directory, not a file");
    // A character device (/dev/null, /dev/full, a terminal) is opened when used; a FIFO or a socket could
    // block that open forever (issue 21).
    if (S_ISCHR(st.st_mode)) return;
    if (!S_ISREG(st.st_mode)) throw Error("\"" + printable(path) + "\" is not a regular file or a character device; give a file");
    const int fd = ::open(path.c_str(), O_WRONLY);  // no O_TRUNC: checking must not change the file
    if (fd < 0) throw Error("cannot write \"" + printable(path) + "\": " + reason());
    ::close(fd);
    return;
  }
  // No file there yet: try the folder with a probe of this process's own (mkstemp: a fresh name,
  // created exclusively), never with path itself. Creating and unlinking path raced with another
  // process saving to it: that one's check failed on the file (EEXIST), or its finished checkpoint,
  // renamed over the empty probe, was unlinked after it had said "saved" (tests/cli/hostile_cli.sh).
  const auto [dir, base] = split_path(path);
  const long name_max = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  if (name_max > 0 && static_cast<long>(base.size()) > name_max)
    throw Error("cannot write \"" + printable(path) + "\": the file name is longer than " + std::to_string(name_max) + " bytes");
  std::string probe = (dir == "/" ? "" : dir) + "/.resnorm-check.XXXXXX";
  std::vector<char> name(probe.begin(), probe.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw Error("cannot write \"" + printable(path) + "\": " + reason());
  ::close(fd);
  ::unlink(name.data());
}

}  // namespace resnorm

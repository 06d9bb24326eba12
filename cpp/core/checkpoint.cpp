// safetensors writing and strict reading.
#include "checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "error.h"
#include "json.h"

namespace resnorm {

namespace {
constexpr uint64_t kMaxHeader = 100u << 20;  // the format's own limit is 100 MB
}

const TensorEntry* SafetensorsView::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<uint8_t> write_safetensors(const std::vector<Slice>& slices, const float* params,
                                       const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  Json meta = Json::object();
  for (const auto& kv : metadata) meta.set(kv.first, Json::string(kv.second));
  header.set("__metadata__", meta);
  size_t off = 0;
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
    header.set(s.name, t);
    off += s.size * 4;
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';  // the format allows trailing spaces; 8-byte alignment for the data
  std::vector<uint8_t> out(8 + h.size() + off);
  const uint64_t hn = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(hn >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  uint8_t* data = out.data() + 8 + h.size();
  for (const Slice& s : slices) std::memcpy(data + s.offset * 4, params + s.offset, s.size * 4);  // little-endian hosts
  return out;
}

SafetensorsView parse_safetensors(const uint8_t* bytes, size_t n) {
  if (n < 8) throw Error("checkpoint: file is " + std::to_string(n) + " bytes, too short for a safetensors header");
  uint64_t hn = 0;
  for (int i = 0; i < 8; ++i) hn |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (hn < 2 || hn > kMaxHeader || hn > n - 8)
    throw Error("checkpoint: header length " + std::to_string(hn) + " does not fit a file of " + std::to_string(n) +
                " bytes (truncated or not a safetensors file)");
  Json header;
  try {
    header = parse_json(std::string(reinterpret_cast<const char*>(bytes) + 8, static_cast<size_t>(hn)));
  } catch (const Error& e) {
    throw Error(std::string("checkpoint: header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw Error("checkpoint: header must be a JSON object");
  SafetensorsView v;
  v.data = bytes + 8 + hn;
  v.data_size = static_cast<size_t>(n - 8 - hn);
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
    if (dtype->as_string() != "F32") throw Error(where + " has dtype " + dtype->as_string() + " (only F32 is supported)");
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
    if (en > static_cast<double>(v.data_size))
      throw Error(where + " ends at byte " + format_number(en) + " but the data section has only " +
                  std::to_string(v.data_size) + " bytes (truncated file)");
    if (en - b != count * 4)
      throw Error(where + " has " + format_number(en - b) + " bytes for a shape of " + format_number(count) + " floats");
    e.begin = static_cast<size_t>(b);
    e.end = static_cast<size_t>(en);
    v.tensors.push_back(e);
  }
  // Ranges must tile the data section exactly: no overlaps, no gaps (as the format requires).
  std::vector<const TensorEntry*> order;
  for (const auto& t : v.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorEntry* a, const TensorEntry* b) { return a->begin < b->begin; });
  size_t pos = 0;
  for (const TensorEntry* t : order) {
    if (t->begin != pos) throw Error("checkpoint: tensor \"" + t->name + "\" overlaps another or leaves a gap");
    pos = t->end;
  }
  if (pos != v.data_size)
    throw Error("checkpoint: " + std::to_string(v.data_size - pos) + " trailing bytes after the last tensor");
  return v;
}

void load_tensors(const SafetensorsView& view, const std::vector<Slice>& slices, float* params) {
  for (const Slice& s : slices) {
    const TensorEntry* t = view.find(s.name);
    if (!t) throw Error("checkpoint: tensor \"" + s.name + "\" is missing");
    if (t->shape != s.shape) {
      auto str = [](const std::vector<int>& v) {
        std::string o = "[";
        for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + std::to_string(v[i]);
        return o + "]";
      };
      throw Error("checkpoint: tensor \"" + s.name + "\" has shape " + str(t->shape) + ", the model expects " + str(s.shape));
    }
    const auto* src = reinterpret_cast<const uint8_t*>(view.data + t->begin);
    for (size_t i = 0; i < s.size; ++i) {
      float f;
      std::memcpy(&f, src + 4 * i, 4);
      if (!std::isfinite(f))
        throw Error("checkpoint: tensor \"" + s.name + "\" holds a non-finite value at index " + std::to_string(i));
    }
  }
  for (const auto& t : view.tensors) {
    bool known = false;
    for (const Slice& s : slices) known = known || s.name == t.name;
    if (!known) throw Error("checkpoint: unexpected tensor \"" + t.name + "\" (does the config match?)");
  }
  for (const Slice& s : slices) std::memcpy(params + s.offset, view.data + view.find(s.name)->begin, s.size * 4);
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open \"" + path + "\"");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return bytes;
}

void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("cannot write \"" + tmp + "\"");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw Error("writing \"" + tmp + "\" failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot replace \"" + path + "\"");
  }
}

}  // namespace resnorm

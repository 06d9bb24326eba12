// Checkpoints in the safetensors format (huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw data.
// Tensor names follow PyTorch's state_dict, and the config travels in "__metadata__", so
// tests/torch_ref/model.py can load a checkpoint as it is.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model.h"

namespace resnorm {

struct TensorEntry {
  std::string name;
  std::vector<int> shape;
  size_t begin = 0, end = 0;  // byte range inside the data section
};

struct SafetensorsView {
  std::map<std::string, std::string> metadata;
  std::vector<TensorEntry> tensors;
  const uint8_t* data = nullptr;  // start of the data section (points into the caller's bytes)
  size_t data_size = 0;
  const TensorEntry* find(const std::string& name) const;
};

std::vector<uint8_t> write_safetensors(const std::vector<Slice>& slices, const float* params,
                                       const std::map<std::string, std::string>& metadata);
// Validates everything it can without knowing the model: header length and JSON, dtypes (F32
// only), shapes against byte ranges, ranges inside the file, no overlaps or gaps.
SafetensorsView parse_safetensors(const uint8_t* bytes, size_t n);
// Copies tensors into params after checking names, shapes and finiteness against the layout;
// params is untouched when anything is wrong.
void load_tensors(const SafetensorsView& view, const std::vector<Slice>& slices, float* params);

std::vector<uint8_t> read_file(const std::string& path);
// Writes to path + ".tmp", then renames: a half-written file never replaces a good one.
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace resnorm

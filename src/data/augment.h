// Background noise and training-time augmentation, as TF's speech_commands
// train.py does it (FACTS §6):
//   1. time shift: uniform integer shift in [-shift, +shift] samples, zero padded;
//   2. with probability background_prob, add a random 1 s slice of a
//      _background_noise_ file at gain U(0, background_volume);
//      _silence_ items get the slice at gain U(0, silence_volume) always;
//   3. clip to [-1, 1].
// Every random number comes from the caller's kws::Rng, drawn in a fixed order,
// so the same seed gives the same augmented audio on every platform.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"
#include "util/rng.h"

namespace kws {

// All _background_noise_ recordings, decoded once at the model rate.
class BackgroundNoise {
 public:
  // Empty; samples added with Add() are taken to be at `sample_rate`.
  explicit BackgroundNoise(int sample_rate = 16000) : rate_(sample_rate) {}
  // Loads every Dataset::noise file through ReadAudio at `sample_rate`.
  BackgroundNoise(const Dataset& ds, int sample_rate);
  // Loads every audio file of a folder (e.g. root/_background_noise_).
  static BackgroundNoise FromFolder(const std::string& dir, int sample_rate);
  // From samples already in memory (tests, synthetic noise).
  void Add(std::string name, std::vector<float> samples);

  bool empty() const { return files_.empty(); }
  int size() const { return int(files_.size()); }
  int sample_rate() const { return rate_; }
  const std::string& name(int i) const { return files_[size_t(i)].name; }
  const std::vector<float>& samples(int i) const { return files_[size_t(i)].samples; }

  // A random slice of n samples: a file chosen uniformly, then a uniform
  // offset. Files shorter than n are zero padded. Throws if empty().
  void Slice(Rng& rng, float* out, int n) const;
  // A fixed slice (offset in samples); zero padded past the end.
  void SliceAt(int file, int64_t offset, float* out, int n) const;

 private:
  struct File {
    std::string name;
    std::vector<float> samples;
  };
  std::vector<File> files_;
  int rate_ = 16000;
};

struct AugmentOptions {
  double shift_ms = 100.0;          // max |time shift|, milliseconds (0 = off)
  double background_prob = 0.8;     // probability of mixing in background noise
  double background_volume = 0.1;   // noise gain ~ U(0, background_volume)
  double silence_volume = 1.0;      // gain ~ U(0, silence_volume) for _silence_ items (TF: 1)
  // Room for more (speed/pitch/SpecAugment) later.
  void Validate() const;            // throws UsageError naming the bad setting
  std::string ToString() const;
};

// What one call did (for tests and logs).
struct AugmentInfo {
  int shift = 0;        // samples; > 0 moves the audio later
  bool mixed = false;   // background added
  float gain = 0.0f;
  int clipped = 0;      // samples clipped to [-1, 1]
};

// Augments one window in place. `noise` may be null or empty (no mixing). `is_silence`
// selects TF's silence treatment (always mixed, gain U(0, silence_volume)).
// Draw order: shift, mix coin, gain, then (only when mixing) the noise slice.
AugmentInfo Augment(const AugmentOptions& opt, const BackgroundNoise* noise, int sample_rate, Rng& rng,
                    std::vector<float>& samples, bool is_silence = false);

}  // namespace kws

// Stage 3 of the micro front end: the integer mel filterbank (TFLite Micro's
// microfrontend/lib/filterbank.c and filterbank_util.c).
//
// Layout (float32 values, some steps in double, exactly as TensorFlow's filterbank_util.c):
//   mel(f) = 1127 log1p(f / 700)   (double, rounded to float32)
//   num_channels + 1 band edges, center[c] = mel(lower) + (c + 1) (mel(upper) - mel(lower)) / (num_channels + 1)
//   hz_per_bin = 0.5 sample_rate / (spectrum_size - 1); bins start at int(1.5 + lower / hz_per_bin) (DC never)
//   channel c takes the next bins f while mel(f hz_per_bin) <= center[c]
//   weight(f) = (center[c] - mel(f)) / (center[c] - previous center (mel(lower) for c = 0))
//   Q12: weight = floor(4096 w + 0.5), unweight = floor(4096 (1 - w) + 0.5)   (double)
// Per frame (integers):
//   energy[f] = re^2 + im^2 (int16 parts; stored as int32, read as uint64 after sign extension)
//   acc[c]    = sum over c's bins of weight * energy + sum over c-1's bins of unweight * energy   (uint64)
//   out[c-1]  = sqrt(acc[c]) >> shift, c = 1..num_channels (acc[0] only feeds channel 1's unweights)
// The square root is bit-wise with rounding to nearest; 64-bit inputs below 2^32 take a 32-bit
// routine whose result saturates at 0xFFFF (as the reference's shortcut does).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "features/micro/fft.h"

namespace kws::micro {

inline constexpr int kFilterbankBits = 12;

struct FilterbankOptions {
  int num_channels = 32;     // output channels
  float lower_hz = 125.0f;   // lowest band edge, Hz
  float upper_hz = 7500.0f;  // highest band edge, Hz

  // Throws UsageError naming the setting (also when the bands reach past the spectrum).
  void Validate(int sample_rate, int spectrum_size) const;
};

uint32_t Sqrt64(uint64_t x);  // the reference's integer square root (rounded; see above)
uint32_t Sqrt32(uint32_t x);

class Filterbank {
 public:
  Filterbank(const FilterbankOptions& options, int sample_rate, int spectrum_size);

  int num_channels() const { return num_channels_; }
  int start_bin() const { return start_; }  // first spectrum bin used
  int end_bin() const { return end_; }      // one past the last
  // Channel c (0..num_channels, c = 0 is the band below the first output): its first bin and
  // its bins' Q12 weights and unweights.
  int channel_start(int c) const { return starts_[size_t(c)]; }
  const std::vector<int16_t>& channel_weights(int c) const { return weights_[size_t(c)]; }
  const std::vector<int16_t>& channel_unweights(int c) const { return unweights_[size_t(c)]; }

  // spectrum (spectrum_size bins) -> out[num_channels] = sqrt(acc[c]) >> scale_down_shift.
  void Apply(const Complex16* spectrum, int scale_down_shift, uint32_t* out) const;
  // The accumulation alone: work[num_channels + 1] (for tests).
  void Accumulate(const Complex16* spectrum, uint64_t* work) const;

 private:
  int num_channels_, start_ = 0, end_ = 0;
  std::vector<int> starts_;
  std::vector<std::vector<int16_t>> weights_, unweights_;
  mutable std::vector<uint64_t> work_;
};

}  // namespace kws::micro

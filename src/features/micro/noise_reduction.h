// Stage 4 of the micro front end: stationary-noise subtraction per channel
// (TFLite Micro's microfrontend/lib/noise_reduction.c and noise_reduction_util.c).
//
// Coefficients in Q14: c = uint16(float(x) * 16384) for the even- and odd-channel smoothing and
// for min_signal_remaining. Per channel i of each frame (uint32 / uint64 integers):
//   scaled      = signal[i] << smoothing_bits
//   estimate[i] = (scaled * c_i + estimate[i] * (16384 - c_i)) >> 14      (a one-pole low pass)
//   out         = max((scaled - min(estimate[i], scaled)) >> smoothing_bits,
//                     (signal[i] * min_signal_remaining) >> 14)
// The estimate carries from frame to frame (Reset() zeroes it); the PCAN stage reads it.
// min_signal_remaining = 1 leaves the signal unchanged (the estimate is still kept).
#pragma once
#include <cstdint>
#include <vector>

namespace kws::micro {

inline constexpr int kNoiseReductionBits = 14;

struct NoiseReductionOptions {
  int smoothing_bits = 10;             // the signal is scaled up by 2^bits before smoothing
  float even_smoothing = 0.025f;       // smoothing coefficient of even channels (0..1)
  float odd_smoothing = 0.06f;         // of odd channels
  float min_signal_remaining = 0.05f;  // fraction of the signal always kept (0..1)

  void Validate() const;  // throws UsageError naming the setting
};

class NoiseReduction {
 public:
  NoiseReduction(const NoiseReductionOptions& options, int num_channels);

  void Apply(uint32_t* signal);  // in place, num_channels values
  void Reset();

  int smoothing_bits() const { return smoothing_bits_; }
  const std::vector<uint32_t>& estimate() const { return estimate_; }
  uint16_t even_smoothing_q14() const { return even_; }
  uint16_t odd_smoothing_q14() const { return odd_; }
  uint16_t min_signal_remaining_q14() const { return min_remaining_; }

 private:
  int smoothing_bits_;
  uint16_t even_, odd_, min_remaining_;
  std::vector<uint32_t> estimate_;
};

}  // namespace kws::micro

// Stage 5 of the micro front end: per-channel energy normalisation, PCAN (Wang et al., "Trainable
// frontend for robust and far-field keyword spotting", ICASSP 2017; TFLite Micro's
// microfrontend/lib/pcan_gain_control.c and pcan_gain_control_util.c).
//
// The gain 2^gain_bits (noise + offset)^-strength is read from a lookup table indexed by the noise
// estimate of the noise-reduction stage (same frame, already updated):
//   table (float32 powf, rounded to int16, capped at 32767), built once:
//     g(x) = int16(2^gain_bits powf(x / 2^input_bits + offset, -strength) + 0.5)
//     input_bits = smoothing_bits - correction_bits, correction_bits = log2(fft_size) - 1 - 6
//     lut[0] = g(0), lut[1] = g(1); for each interval k = 2..32 (x in [2^(k-1), 2^k)), a quadratic
//     through x0 = 2^(k-1), x1 = 1.5 x0, x2 = 2 x0 (2^32 - 1 for k = 32):
//       lut[4k-6] = y0, lut[4k-5] = a1 = 4 (y1 - y0) - (y2 - y0), lut[4k-4] = a2 = (y2 - y0) - a1
//   lookup (integers): k = msb(x), frac = 10 bits of x below its msb,
//     gain = ((((a2 frac) >> 5) + (a1 << 5)) frac + 2^14) >> 15 + y0
//   snr = (signal * gain) >> (gain_bits - correction_bits - 12)
//   out = snr < 2^13 ? (snr^2) >> 20 : (snr >> 6) - 64                  ("shrink", 6 output bits)
#pragma once
#include <cstdint>
#include <vector>

namespace kws::micro {

inline constexpr int kPcanSnrBits = 12;
inline constexpr int kPcanOutputBits = 6;
inline constexpr int kWideDynamicFunctionBits = 32;
inline constexpr int kWideDynamicFunctionLutSize = 4 * kWideDynamicFunctionBits - 3;

struct PcanOptions {
  bool enabled = false;     // TFLite Micro's default; micro_speech and microWakeWord turn it on
  float strength = 0.95f;   // normalisation exponent (0 disables, 1 full strength)
  float offset = 80.0f;     // added to the noise estimate in the denominator (> 0)
  int gain_bits = 21;       // fractional bits of the gain

  // correction_bits and smoothing_bits come from the FFT size and the noise-reduction stage.
  void Validate(int smoothing_bits, int correction_bits) const;  // throws UsageError
};

// One table entry: g(x) above.
int16_t PcanGainLookup(const PcanOptions& o, int input_bits, uint32_t x);
// The whole table (kWideDynamicFunctionLutSize values).
std::vector<int16_t> PcanGainTable(const PcanOptions& o, int input_bits);
// The piecewise-quadratic lookup of the gain for a noise estimate x.
int16_t WideDynamicFunction(uint32_t x, const int16_t* lut);
uint32_t PcanShrink(uint32_t x);

class PcanGainControl {
 public:
  PcanGainControl(const PcanOptions& options, int smoothing_bits, int correction_bits);
  // signal[i] -> shrink((signal[i] gain(noise_estimate[i])) >> snr_shift), n channels.
  void Apply(const uint32_t* noise_estimate, uint32_t* signal, int n) const;
  int snr_shift() const { return snr_shift_; }
  const std::vector<int16_t>& table() const { return lut_; }

 private:
  std::vector<int16_t> lut_;
  int snr_shift_;
};

}  // namespace kws::micro

// Stage 6 of the micro front end: a fixed-point natural logarithm to uint16 (TFLite Micro's
// microfrontend/lib/log_scale.c and log_lut.c): log2 by linear interpolation of a correction
// table over 128 segments of the mantissa, then times ln 2.
//
//   value <<= correction_bits (>>= if negative; correction_bits = log2(fft_size) - 1 - 6)
//   value <= 1 -> 0
//   k = msb(value) - 1; frac = the bits below the msb as a Q16 fraction
//   log2 = (k << 16) + frac + lut[seg] + ((lut[seg+1] - lut[seg]) (frac - 512 seg)) >> 16,  seg = frac >> 9
//   lut[i] = round(65536 (log2(1 + i/128) - i/128)), i = 0..128 (lut[129] = 0: padding)
//   ln   = (45426 log2 + 32768) >> 16                 (45426 = round(65536 ln 2))
//   out  = min(((ln << scale_shift) + 32768) >> 16, 65535)
// With the log off, out = min(value, 65535) (no correction shift either).
#pragma once
#include <cstdint>

namespace kws::micro {

inline constexpr int kLogScaleLog2 = 16;
inline constexpr int kLogSegmentsLog2 = 7;
inline constexpr uint32_t kLogCoeff = 45426;

struct LogScaleOptions {
  bool enabled = true;
  int scale_shift = 6;  // output = ln(x) * 2^scale_shift

  void Validate() const;  // throws UsageError naming the setting
};

// The interpolation table (130 entries), generated from the formula above.
const uint16_t* LogLut();
// The logarithm for value > 1 (before the final clamp).
uint32_t Log(uint32_t value, int scale_shift);
// signal[n] (uint32) -> out[n] (uint16); out may alias nothing in signal.
void ApplyLogScale(const LogScaleOptions& o, const uint32_t* signal, int n, int correction_bits, uint16_t* out);

}  // namespace kws::micro

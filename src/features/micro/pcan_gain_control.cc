#include "features/micro/pcan_gain_control.h"

#include <cmath>
#include <math.h>
#include <string>

#include "features/micro/bits.h"
#include "util/error.h"

namespace kws::micro {

void PcanOptions::Validate(int smoothing_bits, int correction_bits) const {
  if (!enabled) return;
  auto bad = [](const std::string& what) { throw UsageError("features: micro." + what); };
  if (!std::isfinite(strength) || strength < 0.0f || strength > 4.0f)
    bad("pcan_strength must be in 0..4 (got " + FloatText(strength) + ")");
  if (!std::isfinite(offset) || offset <= 0.0f) bad("pcan_offset must be > 0 (got " + FloatText(offset) + ")");
  if (gain_bits < 0 || gain_bits > 30) bad("gain_bits must be 0..30 (got " + std::to_string(gain_bits) + ")");
  const int input_bits = smoothing_bits - correction_bits;
  if (input_bits < 0 || input_bits > 31)
    bad("smoothing_bits (" + std::to_string(smoothing_bits) + ") does not fit the FFT size for PCAN (needs " +
        std::to_string(correction_bits) + ".." + std::to_string(correction_bits + 31) + ")");
  const int snr_shift = gain_bits - correction_bits - kPcanSnrBits;
  if (snr_shift < 0 || snr_shift > 63)
    bad("gain_bits (" + std::to_string(gain_bits) + ") is too small for this FFT size (needs >= " +
        std::to_string(correction_bits + kPcanSnrBits) + ")");
}

int16_t PcanGainLookup(const PcanOptions& o, int input_bits, uint32_t x) {
  // float32 as pcan_gain_control_util.c computes it.
  const float x_as_float = float(x) / float(uint32_t(1) << input_bits);
  const float gain = float(uint32_t(1) << o.gain_bits) * powf(x_as_float + o.offset, -o.strength);
  if (gain > float(0x7FFF)) return 0x7FFF;
  return int16_t(gain + 0.5f);
}

std::vector<int16_t> PcanGainTable(const PcanOptions& o, int input_bits) {
  std::vector<int16_t> lut(size_t(kWideDynamicFunctionLutSize), 0);
  lut[0] = PcanGainLookup(o, input_bits, 0);
  lut[1] = PcanGainLookup(o, input_bits, 1);
  for (int interval = 2; interval <= kWideDynamicFunctionBits; ++interval) {
    const uint32_t x0 = uint32_t(1) << (interval - 1);
    const uint32_t x1 = x0 + (x0 >> 1);
    const uint32_t x2 = interval == kWideDynamicFunctionBits ? x0 + (x0 - 1) : 2 * x0;
    const int16_t y0 = PcanGainLookup(o, input_bits, x0);
    const int16_t y1 = PcanGainLookup(o, input_bits, x1);
    const int16_t y2 = PcanGainLookup(o, input_bits, x2);
    const int32_t diff1 = int32_t(y1) - y0, diff2 = int32_t(y2) - y0;
    const int32_t a1 = 4 * diff1 - diff2;
    const int32_t a2 = diff2 - a1;
    const size_t base = size_t(4 * interval - 6);
    lut[base] = y0;
    lut[base + 1] = Wrap16(a1);
    lut[base + 2] = Wrap16(a2);
  }
  return lut;
}

int16_t WideDynamicFunction(uint32_t x, const int16_t* lut) {
  if (x <= 2) return lut[x];
  const int interval = MostSignificantBit32(x);
  lut += 4 * interval - 6;
  const int16_t frac = int16_t((interval < 11 ? x << (11 - interval) : x >> (interval - 11)) & 0x3FF);
  int32_t result = (int32_t(lut[2]) * frac) >> 5;
  result += Wrap32(int64_t(uint32_t(int32_t(lut[1])) << 5));
  result = Wrap32(int64_t(result) * frac);
  result = Wrap32(int64_t(result) + (1 << 14)) >> 15;
  result += lut[0];
  return Wrap16(result);
}

uint32_t PcanShrink(uint32_t x) {
  if (x < (2u << kPcanSnrBits)) return (x * x) >> (2 + 2 * kPcanSnrBits - kPcanOutputBits);
  return (x >> (kPcanSnrBits - kPcanOutputBits)) - (1u << kPcanOutputBits);
}

PcanGainControl::PcanGainControl(const PcanOptions& o, int smoothing_bits, int correction_bits) {
  o.Validate(smoothing_bits, correction_bits);
  snr_shift_ = o.gain_bits - correction_bits - kPcanSnrBits;
  lut_ = PcanGainTable(o, smoothing_bits - correction_bits);
}

void PcanGainControl::Apply(const uint32_t* noise_estimate, uint32_t* signal, int n) const {
  for (int i = 0; i < n; ++i) {
    // int16 gain read as uint32 (pcan_gain_control.c); the table's gains are positive.
    const uint32_t gain = uint32_t(int32_t(WideDynamicFunction(noise_estimate[i], lut_.data())));
    const uint32_t snr = uint32_t((uint64_t(signal[i]) * gain) >> snr_shift_);
    signal[i] = PcanShrink(snr);
  }
}

}  // namespace kws::micro

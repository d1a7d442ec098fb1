#include "features/micro/log_scale.h"

#include <array>
#include <cmath>
#include <string>

#include "features/micro/bits.h"
#include "util/error.h"

namespace kws::micro {
namespace {

constexpr int kSegments = 1 << kLogSegmentsLog2;

std::array<uint16_t, kSegments + 2> MakeLogLut() {
  std::array<uint16_t, kSegments + 2> lut{};
  for (int i = 0; i <= kSegments; ++i) {
    const double x = double(i) / kSegments;
    lut[size_t(i)] = uint16_t(std::lround((std::log2(1.0 + x) - x) * (1 << kLogScaleLog2)));
  }
  lut[kSegments + 1] = 0;  // padding, never read by the interpolation
  return lut;
}

// The mantissa of x (its bits below the msb, position log2x) as Q16, plus the table's correction.
uint32_t Log2FractionPart(uint32_t x, uint32_t log2x) {
  int32_t frac = Wrap32(int64_t(x) - (int64_t(1) << log2x));
  if (log2x < uint32_t(kLogScaleLog2)) frac = Wrap32(int64_t(frac) << (kLogScaleLog2 - int(log2x)));
  else frac >>= int(log2x) - kLogScaleLog2;
  const uint32_t base_seg = uint32_t(frac) >> (kLogScaleLog2 - kLogSegmentsLog2);
  const uint32_t seg_unit = (uint32_t(1) << kLogScaleLog2) >> kLogSegmentsLog2;
  const uint16_t* lut = LogLut();
  const int32_t c0 = lut[base_seg], c1 = lut[base_seg + 1];
  const int32_t seg_base = int32_t(seg_unit * base_seg);
  const int32_t rel_pos = Wrap32(int64_t(c1 - c0) * (frac - seg_base)) >> kLogScaleLog2;
  return uint32_t(frac + c0 + rel_pos);
}

}  // namespace

void LogScaleOptions::Validate() const {
  if (scale_shift < 0 || scale_shift > 16)
    throw UsageError("features: micro.scale_shift must be 0..16 (got " + std::to_string(scale_shift) + ")");
}

const uint16_t* LogLut() {
  static const std::array<uint16_t, kSegments + 2> lut = MakeLogLut();
  return lut.data();
}

uint32_t Log(uint32_t x, int scale_shift) {
  const uint32_t integer = uint32_t(MostSignificantBit32(x) - 1);
  const uint32_t fraction = Log2FractionPart(x, integer);
  const uint32_t log2 = (integer << kLogScaleLog2) + fraction;
  const uint32_t round = (uint32_t(1) << kLogScaleLog2) / 2;
  const uint32_t loge = uint32_t((uint64_t(kLogCoeff) * log2 + round) >> kLogScaleLog2);
  return ((loge << scale_shift) + round) >> kLogScaleLog2;
}

void ApplyLogScale(const LogScaleOptions& o, const uint32_t* signal, int n, int correction_bits, uint16_t* out) {
  for (int i = 0; i < n; ++i) {
    uint32_t value = signal[i];
    if (o.enabled) {
      if (correction_bits < 0) value >>= -correction_bits;
      else value <<= correction_bits;
      value = value > 1 ? Log(value, o.scale_shift) : 0;
    }
    out[i] = uint16_t(value < 0xFFFF ? value : 0xFFFF);
  }
}

}  // namespace kws::micro

#include "features/micro/noise_reduction.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "features/micro/bits.h"
#include "util/error.h"

namespace kws::micro {

void NoiseReductionOptions::Validate() const {
  auto bad = [](const std::string& what) { throw UsageError("features: micro." + what); };
  if (smoothing_bits < 0 || smoothing_bits > 16)
    bad("smoothing_bits must be 0..16 (got " + std::to_string(smoothing_bits) + ")");
  auto unit = [&](const char* name, float v) {
    if (!std::isfinite(v) || v < 0.0f || v > 1.0f) bad(std::string(name) + " must be in 0..1 (got " + FloatText(v) + ")");
  };
  unit("even_smoothing", even_smoothing);
  unit("odd_smoothing", odd_smoothing);
  unit("min_signal_remaining", min_signal_remaining);
}

NoiseReduction::NoiseReduction(const NoiseReductionOptions& o, int num_channels) : smoothing_bits_(o.smoothing_bits) {
  o.Validate();
  // float * int in float32, truncated into uint16 (noise_reduction_util.c).
  even_ = uint16_t(o.even_smoothing * float(1 << kNoiseReductionBits));
  odd_ = uint16_t(o.odd_smoothing * float(1 << kNoiseReductionBits));
  min_remaining_ = uint16_t(o.min_signal_remaining * float(1 << kNoiseReductionBits));
  estimate_.assign(size_t(num_channels), 0);
}

void NoiseReduction::Reset() { std::fill(estimate_.begin(), estimate_.end(), 0u); }

void NoiseReduction::Apply(uint32_t* signal) {
  for (size_t i = 0; i < estimate_.size(); ++i) {
    const uint32_t smoothing = (i & 1) == 0 ? even_ : odd_;
    const uint32_t one_minus_smoothing = (1u << kNoiseReductionBits) - smoothing;
    const uint32_t scaled = signal[i] << smoothing_bits_;
    uint32_t estimate =
        uint32_t((uint64_t(scaled) * smoothing + uint64_t(estimate_[i]) * one_minus_smoothing) >> kNoiseReductionBits);
    estimate_[i] = estimate;
    if (estimate > scaled) estimate = scaled;  // signal - estimate never goes negative
    const uint32_t floor = uint32_t((uint64_t(signal[i]) * min_remaining_) >> kNoiseReductionBits);
    const uint32_t subtracted = (scaled - estimate) >> smoothing_bits_;
    signal[i] = std::max(subtracted, floor);
  }
}

}  // namespace kws::micro

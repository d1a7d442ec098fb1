#include "stream/vad.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/error.h"

namespace kws {

EnergyVad::EnergyVad(int sample_rate, double threshold_dbfs, double min_ms, double hold_ms) {
  if (sample_rate < 100) throw UsageError("vad: sample rate " + std::to_string(sample_rate) + " too low");
  if (!(min_ms >= 0) || !(hold_ms >= 0) || std::isnan(threshold_dbfs))
    throw UsageError("vad: --vad-min-ms and the hold time must be >= 0 and the threshold a number");
  block_ = sample_rate / 100;
  threshold_ = threshold_dbfs;
  min_blocks_ = std::max(1, int(std::ceil(min_ms / 10.0 - 1e-9)));
  hold_blocks_ = std::max<int64_t>(1, int64_t(std::ceil(hold_ms / 10.0 - 1e-9)));
}

void EnergyVad::Accept(const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    acc_ += double(x[i]) * double(x[i]);
    if (++fill_ == block_) {
      const double ms = acc_ / block_;
      last_dbfs_ = ms > 1e-20 ? 10.0 * std::log10(ms) : -200.0;
      if (last_dbfs_ >= threshold_) {
        ++run_;
        if (run_ >= min_blocks_) last_qualified_ = blocks_;
      } else {
        run_ = 0;
      }
      ++blocks_;
      acc_ = 0;
      fill_ = 0;
    }
  }
}

bool EnergyVad::Active() const { return last_qualified_ >= 0 && blocks_ - 1 - last_qualified_ < hold_blocks_; }

}  // namespace kws

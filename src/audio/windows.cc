// Cutting clips into model windows (pad short ones, cut long ones).
#include <algorithm>

#include "audio/audio.h"
#include "util/error.h"

namespace kws {

std::vector<std::vector<float>> Windows(const std::vector<float>& samples, size_t window, LongClipPolicy policy,
                                        size_t hop) {
  if (window == 0) throw UsageError("windows: window length must be positive");
  if (hop == 0) hop = window;
  const size_t n = samples.size();
  size_t count = 1;
  if (policy == LongClipPolicy::kAllWindows && n > window) count = 1 + (n - window + hop - 1) / hop;
  std::vector<std::vector<float>> out(count, std::vector<float>(window, 0.0f));
  for (size_t w = 0; w < count; ++w) {
    const size_t start = w * hop;
    const size_t len = start < n ? std::min(window, n - start) : 0;
    std::copy_n(samples.begin() + std::ptrdiff_t(start), len, out[w].begin());
  }
  return out;
}

}  // namespace kws

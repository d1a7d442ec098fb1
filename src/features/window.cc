#include "features/window.h"

#include <cmath>
#include <numbers>

#include "util/error.h"

namespace kws {

bool IsKnownWindow(const std::string& name) { return name == "hann" || name == "hamming" || name == "none"; }

std::vector<double> MakeWindow(const std::string& name, int length, bool periodic) {
  if (!IsKnownWindow(name)) throw UsageError("features: unknown window '" + name + "' (expected hann, hamming or none)");
  if (length <= 0) throw UsageError("features: window length must be positive");
  std::vector<double> w(static_cast<size_t>(length), 1.0);
  if (name == "none" || length == 1) return w;
  const double a = name == "hann" ? 0.5 : 0.54, b = 1.0 - a;
  const bool even = length % 2 == 0;
  const double d = (periodic && even) ? length : length - 1;
  for (int n = 0; n < length; ++n) w[size_t(n)] = a - b * std::cos(2.0 * std::numbers::pi * n / d);
  return w;
}

}  // namespace kws

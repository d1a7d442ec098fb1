// Analysis windows as tf.signal defines them (tensorflow/python/ops/signal/).
//   hann:    w[n] = 0.5 - 0.5 cos(2 pi n / D)
//   hamming: w[n] = 0.54 - 0.46 cos(2 pi n / D)
//   none:    w[n] = 1
// periodic=true (tf's default): D = L for even L; for odd L tf uses the
// symmetric window, D = L - 1. L = 1 gives [1].
#pragma once
#include <string>
#include <vector>

namespace kws {

bool IsKnownWindow(const std::string& name);  // "hann", "hamming", "none"
std::vector<double> MakeWindow(const std::string& name, int length, bool periodic = true);

}  // namespace kws

#include "features/mfcc.h"

#include <cmath>
#include <numbers>

namespace kws {

std::vector<float> MfccMatrix(int num_coefficients, int num_mel_bins) {
  const int K = num_coefficients, N = num_mel_bins;
  std::vector<float> d(size_t(K) * size_t(N));
  const double scale = std::sqrt(2.0 / N);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n)
      d[size_t(k) * size_t(N) + size_t(n)] = float(scale * std::cos(std::numbers::pi * k * (2.0 * n + 1.0) / (2.0 * N)));
  return d;
}

void ApplyMfcc(const std::vector<float>& dct, int num_coefficients, int num_mel_bins, const float* log_mel,
               float* out) {
  for (int k = 0; k < num_coefficients; ++k) {
    const float* row = dct.data() + size_t(k) * size_t(num_mel_bins);
    double acc = 0.0;
    for (int n = 0; n < num_mel_bins; ++n) acc += double(row[n]) * double(log_mel[n]);
    out[k] = float(acc);
  }
}

}  // namespace kws

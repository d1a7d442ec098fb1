#include "features/mel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace kws {

double HertzToMel(double hz) { return 1127.0 * std::log1p(hz / 700.0); }

std::vector<double> MelWeightMatrix(int num_mel_bins, int num_spectrogram_bins, double sample_rate, double lower_hz,
                                    double upper_hz) {
  const int M = num_mel_bins, K = num_spectrogram_bins;
  std::vector<double> w(size_t(K) * size_t(M), 0.0);
  std::vector<double> edges(size_t(M) + 2);
  const double lo = HertzToMel(lower_hz), hi = HertzToMel(upper_hz);
  for (int i = 0; i < M + 2; ++i) edges[size_t(i)] = lo + (hi - lo) * i / double(M + 1);
  const double nyquist = sample_rate / 2.0;
  for (int k = 1; k < K; ++k) {  // k = 0 (DC) stays zero
    const double hz = K > 1 ? nyquist * k / double(K - 1) : 0.0;
    const double m = HertzToMel(hz);
    for (int b = 0; b < M; ++b) {
      const double l = edges[size_t(b)], c = edges[size_t(b) + 1], r = edges[size_t(b) + 2];
      const double up = (m - l) / (c - l), down = (r - m) / (r - c);
      w[size_t(k) * size_t(M) + size_t(b)] = std::max(0.0, std::min(up, down));
    }
  }
  return w;
}

SparseMel SparseMel::Build(int num_mel_bins, int num_spectrogram_bins, double sample_rate, double lower_hz,
                           double upper_hz) {
  const int M = num_mel_bins, K = num_spectrogram_bins;
  const std::vector<double> dense = MelWeightMatrix(M, K, sample_rate, lower_hz, upper_hz);
  SparseMel s;
  s.num_spectrogram_bins = K;
  s.bands.resize(size_t(M));
  s.min_bin = K;
  for (int b = 0; b < M; ++b) {
    int first = -1, last = -1;
    for (int k = 0; k < K; ++k)
      if (dense[size_t(k) * size_t(M) + size_t(b)] != 0.0) {
        if (first < 0) first = k;
        last = k;
      }
    Band& band = s.bands[size_t(b)];
    band.offset = int(s.weights.size());
    if (first < 0) continue;  // an empty band (very narrow filters): always 0
    band.first = first;
    band.count = last - first + 1;
    for (int k = first; k <= last; ++k) s.weights.push_back(dense[size_t(k) * size_t(M) + size_t(b)]);
    s.min_bin = std::min(s.min_bin, first);
    s.max_bin = std::max(s.max_bin, last);
  }
  if (s.max_bin < 0) s.min_bin = 0;
  return s;
}

namespace {

typedef double v4d __attribute__((vector_size(32)));

// Dot product with 8 independent partial sums (two 4-wide vectors), so the
// adds do not form one long dependency chain.
[[gnu::target_clones("avx2", "default")]] double Dot(const double* w, const double* x, int n) {
  v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    v4d w0, w1, x0, x1;
    std::memcpy(&w0, w + i, 32);
    std::memcpy(&w1, w + i + 4, 32);
    std::memcpy(&x0, x + i, 32);
    std::memcpy(&x1, x + i + 4, 32);
    a0 += w0 * x0;
    a1 += w1 * x1;
  }
  a0 += a1;
  double acc = (a0[0] + a0[1]) + (a0[2] + a0[3]);
  for (; i < n; ++i) acc += w[i] * x[i];
  return acc;
}

}  // namespace

void SparseMel::Apply(const double* spectrum, double* out) const {
  for (size_t b = 0; b < bands.size(); ++b) {
    const Band& band = bands[b];
    out[b] = Dot(weights.data() + band.offset, spectrum + band.first, band.count);
  }
}

}  // namespace kws

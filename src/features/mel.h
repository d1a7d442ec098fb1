// Mel filterbank exactly as tf.signal.linear_to_mel_weight_matrix (tensorflow/python/ops/signal/):
//   mel(f) = 1127 ln(1 + f / 700)
//   bin k has frequency k * (sample_rate/2) / (num_spectrogram_bins - 1); its mel is m_k
//   edges e_0..e_{M+1} equally spaced in mel between mel(lower_hz) and mel(upper_hz)
//   W[k][b] = max(0, min((m_k - e_b) / (e_{b+1} - e_b), (e_{b+2} - m_k) / (e_{b+2} - e_{b+1})))
//   row k = 0 (DC) is all zeros; no area normalisation (peaks are 1).
#pragma once
#include <vector>

namespace kws {

double HertzToMel(double hz);

// Dense [num_spectrogram_bins x num_mel_bins], row-major, in double (reference / tests).
std::vector<double> MelWeightMatrix(int num_mel_bins, int num_spectrogram_bins, double sample_rate, double lower_hz,
                                    double upper_hz);

// The same matrix stored per mel band as its run of non-zero weights.
struct SparseMel {
  struct Band {
    int first = 0;  // first spectrogram bin with a non-zero weight
    int count = 0;  // number of consecutive bins
    int offset = 0; // into weights
  };
  int num_spectrogram_bins = 0;
  std::vector<Band> bands;
  std::vector<double> weights;
  int min_bin = 0, max_bin = -1;  // range of bins any band uses (for skipping the rest)

  // The same weights by segment: bins between consecutive edges e_s < mel <= e_{s+1}
  // (s = 0..M) feed two bands at most, band s with its rising weight rise[k] and
  // band s-1 with its falling weight fall[k] (arrays indexed k - min_bin). Apply
  // reads every bin once: out[b] = sum_{seg b} rise m + sum_{seg b+1} fall m.
  struct Segment {
    int first = 0;  // k - min_bin of its first bin
    int count = 0;
  };
  std::vector<Segment> segments;  // M + 1
  std::vector<double> rise, fall;

  static SparseMel Build(int num_mel_bins, int num_spectrogram_bins, double sample_rate, double lower_hz,
                         double upper_hz);
  // The same in float, each segment's run zero-padded to a multiple of 4 bins
  // (segment s's weights start at 4 * chunk_first[s]; Apply(float) reads up to
  // 3 spectrum values past max_bin, with zero weight).
  std::vector<float> rise_f, fall_f;
  std::vector<int> chunk_first;  // M + 2 entries: chunks of segment s are [chunk_first[s], chunk_first[s+1])

  // out[b] = sum_k spectrum[k] * W[k][b]
  void Apply(const double* spectrum, double* out) const;
  // The same in float (4 bins per step): what the extractor runs. `spectrum`
  // must be readable up to index max_bin + 3. Magnitudes
  // are non-negative, so the float sums keep ~1e-6 relative accuracy (no
  // cancellation); the precision the log-mel needs is in the FFT before it.
  void Apply(const float* spectrum, float* out) const;
};

}  // namespace kws

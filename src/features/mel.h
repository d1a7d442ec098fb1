// Mel filterbank exactly as tf.signal.linear_to_mel_weight_matrix (FACTS §2):
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

  static SparseMel Build(int num_mel_bins, int num_spectrogram_bins, double sample_rate, double lower_hz,
                         double upper_hz);
  // out[b] = sum_k spectrum[k] * W[k][b]
  void Apply(const double* spectrum, double* out) const;
};

}  // namespace kws

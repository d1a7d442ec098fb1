// MFCCs as tf.signal.mfccs_from_log_mel_spectrograms (tensorflow/python/ops/signal/): an unnormalised
// DCT-II over the N mel bins, scaled by sqrt(2/N) for every coefficient (c0 too):
//   c_k = sqrt(2/N) * sum_n x_n cos(pi k (2n + 1) / (2N)),  first K kept.
#pragma once
#include <vector>

namespace kws {

// [num_coefficients x num_mel_bins], row-major.
std::vector<float> MfccMatrix(int num_coefficients, int num_mel_bins);

// out[k] = sum_n dct[k][n] * log_mel[n]
void ApplyMfcc(const std::vector<float>& dct, int num_coefficients, int num_mel_bins, const float* log_mel,
               float* out);

}  // namespace kws

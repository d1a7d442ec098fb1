// Softmax + cross-entropy loss on logits (the loss, not a layer).
//   logits: (N, C)  labels: (N) integers in [0, C)
//   probs[n,c] = exp(z[n,c] - max_c z) / sum_c exp(...)
//   loss = mean_n -log(probs[n, label_n])
//   dlogits[n,c] = (probs[n,c] - [c == label_n]) / N     (written, not accumulated)
#pragma once
#include <cstdint>

namespace kws {

// Writes probs (may be null) and returns the mean loss. Throws UsageError for a label outside [0, C).
float softmax_cross_entropy_forward(float* probs, const float* logits, const int32_t* labels, int N, int C);
// probs from the forward.
void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels, int N, int C);

// Plain softmax over the last axis (inference / export).
void softmax_forward(float* probs, const float* logits, int N, int C);

}  // namespace kws

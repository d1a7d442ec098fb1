// Softmax + cross-entropy loss on logits (the loss, not a layer).
//   logits: (N, C)  labels: (N) integers in [0, C)
//   probs[n,c] = exp(z[n,c] - max_c z) / sum_c exp(...)
//   loss = mean_n -log(probs[n, label_n])
//   dlogits[n,c] = (probs[n,c] - [c == label_n]) / N     (written, not accumulated)
//
// With CrossEntropyOptions (Keras semantics: class_weight multiplies each sample's loss, the mean
// is still over N; label_smoothing mixes the one-hot target with the uniform distribution):
//   s_n = class_weights[label_n] (1 when empty)   q[n,c] = (1 - eps) [c == label_n] + eps / C
//   loss = (1/N) sum_n s_n * -sum_c q[n,c] log probs[n,c]
//   dlogits[n,c] = s_n (probs[n,c] - q[n,c]) / N
// Soft targets (knowledge distillation, train.distill_*): with soft_weight w > 0 and per-sample
// target distributions t[n,c] (a teacher's probabilities), the target becomes
//   q'[n,c] = (1 - w) q[n,c] + w t[n,c]
// in both the loss and dlogits = s_n (probs - q') / N.
// The defaults give exactly (bit for bit) the plain loss above.
#pragma once
#include <cstdint>
#include <vector>

namespace kws {

struct CrossEntropyOptions {
  std::vector<float> class_weights;  // per class, > 0; empty = all 1
  float label_smoothing = 0.0f;      // eps in [0, 1)
  float soft_weight = 0.0f;          // w in [0, 1]: weight of the soft targets (used only when given)
};

// Writes probs (may be null) and returns the mean loss. Throws UsageError for a label outside [0, C)
// (and InternalError when class_weights is not empty and has not C entries).
// `soft` (may be null = none): (N, C) target distributions, weighted by opt.soft_weight.
float softmax_cross_entropy_forward(float* probs, const float* logits, const int32_t* labels, int N, int C,
                                    const CrossEntropyOptions& opt = {}, const float* soft = nullptr);
// probs from the forward. `norm` is the N divided by (0 = N; a batch computed in chunks passes the
// whole batch size).
void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels, int N, int C,
                                    const CrossEntropyOptions& opt = {}, int norm = 0, const float* soft = nullptr);

// Plain softmax over the last axis (inference / export).
void softmax_forward(float* probs, const float* logits, int N, int C);

}  // namespace kws

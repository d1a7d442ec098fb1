#include "layers/softmax_cross_entropy.h"

#include <cmath>
#include <string>

#include "util/error.h"

namespace kws {

void softmax_forward(float* probs, const float* logits, int N, int C) {
  for (int n = 0; n < N; ++n) {
    const float* z = logits + size_t(n) * C;
    float* p = probs + size_t(n) * C;
    float mx = z[0];
    for (int c = 1; c < C; ++c) mx = std::max(mx, z[c]);
    double sum = 0.0;
    for (int c = 0; c < C; ++c) sum += std::exp(double(z[c] - mx));
    for (int c = 0; c < C; ++c) p[c] = float(std::exp(double(z[c] - mx)) / sum);
  }
}

float softmax_cross_entropy_forward(float* probs, const float* logits, const int32_t* labels, int N, int C) {
  double loss = 0.0;
  for (int n = 0; n < N; ++n) {
    const int y = labels[n];
    if (y < 0 || y >= C)
      throw UsageError("softmax_cross_entropy: label " + std::to_string(y) + " of sample " + std::to_string(n) +
                       " outside [0, " + std::to_string(C) + ")");
    const float* z = logits + size_t(n) * C;
    float mx = z[0];
    for (int c = 1; c < C; ++c) mx = std::max(mx, z[c]);
    double sum = 0.0;
    for (int c = 0; c < C; ++c) sum += std::exp(double(z[c] - mx));
    const double logsum = std::log(sum);
    loss += logsum - double(z[y] - mx);  // -log p_y, computed stably
    if (probs)
      for (int c = 0; c < C; ++c) probs[size_t(n) * C + c] = float(std::exp(double(z[c] - mx) - logsum));
  }
  return float(loss / N);
}

void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels, int N, int C) {
  const float inv = 1.0f / float(N);
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      dlogits[size_t(n) * C + c] = (probs[size_t(n) * C + c] - (c == labels[n] ? 1.0f : 0.0f)) * inv;
}

}  // namespace kws

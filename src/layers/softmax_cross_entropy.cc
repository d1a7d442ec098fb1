#include "layers/softmax_cross_entropy.h"

#include <algorithm>
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

namespace {

void CheckWeights(const CrossEntropyOptions& opt, int C) {
  if (!opt.class_weights.empty() && int(opt.class_weights.size()) != C)
    throw InternalError("softmax_cross_entropy: " + std::to_string(opt.class_weights.size()) +
                        " class weights for " + std::to_string(C) + " classes");
}

}  // namespace

float softmax_cross_entropy_forward(float* probs, const float* logits, const int32_t* labels, int N, int C,
                                    const CrossEntropyOptions& opt, const float* soft) {
  CheckWeights(opt, C);
  const double eps = opt.label_smoothing;
  const double w = soft ? double(opt.soft_weight) : 0.0;
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
    double l = logsum - double(z[y] - mx);  // -log p_y, computed stably
    if (eps != 0.0) {                       // -sum_c q_c log p_c = (1 - eps)(-log p_y) + eps/C sum_c -log p_c
      double all = 0.0;
      for (int c = 0; c < C; ++c) all += logsum - double(z[c] - mx);
      l = (1.0 - eps) * l + eps / C * all;
    }
    if (w != 0.0) {  // (1 - w) (the loss above) + w sum_c -t_c log p_c
      const float* t = soft + size_t(n) * C;
      double st = 0.0;
      for (int c = 0; c < C; ++c) st += double(t[c]) * (logsum - double(z[c] - mx));
      l = (1.0 - w) * l + w * st;
    }
    if (!opt.class_weights.empty()) l *= double(opt.class_weights[size_t(y)]);
    loss += l;
    if (probs)
      for (int c = 0; c < C; ++c) probs[size_t(n) * C + c] = float(std::exp(double(z[c] - mx) - logsum));
  }
  return float(loss / N);
}

void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels, int N, int C,
                                    const CrossEntropyOptions& opt, int norm, const float* soft) {
  CheckWeights(opt, C);
  const float inv = 1.0f / float(norm > 0 ? norm : N);
  // With the defaults s = 1, on = 1, off = 0: exactly (probs - onehot) / N.
  const float eps = opt.label_smoothing, off = eps / float(C), on = 1.0f - eps + off;
  const float w = soft ? opt.soft_weight : 0.0f;
  for (int n = 0; n < N; ++n) {
    const float s = opt.class_weights.empty() ? 1.0f : opt.class_weights[size_t(labels[n])];
    if (w == 0.0f) {
      for (int c = 0; c < C; ++c)
        dlogits[size_t(n) * C + c] = s * (probs[size_t(n) * C + c] - (c == labels[n] ? on : off)) * inv;
      continue;
    }
    const float* t = soft + size_t(n) * C;
    for (int c = 0; c < C; ++c) {
      const float q = (1.0f - w) * (c == labels[n] ? on : off) + w * t[c];
      dlogits[size_t(n) * C + c] = s * (probs[size_t(n) * C + c] - q) * inv;
    }
  }
}

}  // namespace kws

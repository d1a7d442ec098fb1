#include "layers/dropout.h"

#include <algorithm>

#include "layers/layer_util.h"

namespace kws {

void dropout_make_mask(float* mask, size_t n, float rate, Rng& rng) {
  const float scale = 1.0f / (1.0f - rate);
  for (size_t i = 0; i < n; ++i) mask[i] = rng.Uniform() >= rate ? scale : 0.0f;
}

void dropout_forward(float* out, const float* in, const float* mask, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] * mask[i];
}

void dropout_backward(float* din, const float* dout, const float* mask, size_t n) {
  for (size_t i = 0; i < n; ++i) din[i] = dout[i] * mask[i];
}

void DropoutLayer::Forward(const float* in, float* out, int batch, bool training) {
  const size_t n = size_t(batch) * input_shape.size();
  last_training_ = training && rate > 0;
  if (!last_training_) {
    std::copy(in, in + n, out);
    return;
  }
  uint64_t s = has_step_seed_ ? step_seed_ : Rng::Derive(seed, counter_++).Next();
  has_step_seed_ = false;
  uint64_t tag = 1469598103934665603ull;  // FNV-1a of the name: a distinct, portable stream per layer
  for (unsigned char ch : name) tag = (tag ^ ch) * 1099511628211ull;
  Rng rng = Rng::Derive(s, tag);
  mask_.resize(n);
  if (spatial) {  // one draw per (example, channel), repeated over the positions
    const size_t C = size_t(input_shape.c), HW = size_t(input_shape.h) * input_shape.w;
    std::vector<float> m(size_t(batch) * C);
    dropout_make_mask(m.data(), m.size(), float(rate), rng);
    for (size_t b = 0; b < size_t(batch); ++b)
      for (size_t p = 0; p < HW; ++p) std::copy(&m[b * C], &m[b * C] + C, &mask_[(b * HW + p) * C]);
  } else {
    dropout_make_mask(mask_.data(), n, float(rate), rng);
  }
  dropout_forward(out, in, mask_.data(), n);
}

void DropoutLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  if (!din) return;
  const size_t n = size_t(batch) * input_shape.size();
  if (!last_training_) {
    std::copy(dout, dout + n, din);
    return;
  }
  dropout_backward(din, dout, mask_.data(), n);
}

nlohmann::json DropoutLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"rate", rate}, {"seed", seed}};
  if (spatial) j["spatial"] = true;  // absent when false: configs without it stay byte-identical
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeDropoutLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<DropoutLayer>();
  l->name = c.name();
  l->rate = c.Float("rate", 0.5, 0.0, 0.99);
  l->seed = uint64_t(c.Int("seed", 0, 0));
  l->spatial = c.Bool("spatial", false);
  c.Finish();
  return l;
}

}  // namespace kws

#include "layers/relu.h"

#include <algorithm>

#include "layers/layer_util.h"

namespace kws {

// Branch-free (signs are random: a branch mispredicts half the time) and
// __restrict so the loops vectorise.
void relu_forward(float* __restrict out, const float* __restrict in, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = std::max(in[i], 0.0f);
}

void relu_backward(float* __restrict din, const float* __restrict dout, const float* __restrict out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float d = dout[i], o = out[i];  // both loaded unconditionally so the select vectorises
    din[i] = o > 0.0f ? d : 0.0f;         // a select, not d*mask: no FP math on denormal gradients
  }
}

void ReluLayer::Forward(const float* in, float* out, int batch, bool training) {
  relu_forward(out, in, size_t(batch) * input_shape.size());
}

void ReluLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  if (din) relu_backward(din, dout, out, size_t(batch) * input_shape.size());
}

nlohmann::json ReluLayer::Config() const {
  nlohmann::json j = {{"type", type()}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeReluLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<ReluLayer>();
  l->name = c.name();
  c.Finish();
  return l;
}

}  // namespace kws

#include "layers/relu.h"

#include "layers/layer_util.h"

namespace kws {

void relu_forward(float* out, const float* in, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void relu_backward(float* din, const float* dout, const float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
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

// ReLU: out = max(in, 0); din = dout where out > 0 (the derivative at 0 is taken as 0, as TF does).
#pragma once
#include <memory>

#include "layers/layer.h"

namespace kws {

void relu_forward(float* out, const float* in, size_t n);
void relu_backward(float* din, const float* dout, const float* out, size_t n);

// Config: {"type":"relu"}
class ReluLayer : public Layer {
 public:
  std::string type() const override { return "relu"; }
  Shape OutputShape(const Shape& in) const override { return in; }
  void Build(const Shape& in, Rng& rng) override { input_shape = in; }
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
};

std::unique_ptr<Layer> MakeReluLayer(const nlohmann::json& cfg);

}  // namespace kws

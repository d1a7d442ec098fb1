// Reshape (Keras Reshape): the same values in NHWC order under another (H, W, C) of equal size.
// TC-ResNet's first step: log-mel (T, F, 1) -> (T, 1, F), frequency as channels for temporal convs.
//   out = in; din = dout
#pragma once
#include <memory>

#include "layers/layer.h"

namespace kws {

// Config: {"type":"reshape","shape":[97,1,20]}   (one entry may be -1: inferred)
class ReshapeLayer : public Layer {
 public:
  int h = 1, w = 1, c = 1;  // -1 = inferred
  std::string type() const override { return "reshape"; }
  Shape OutputShape(const Shape& in) const override;
  void Build(const Shape& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
};

std::unique_ptr<Layer> MakeReshapeLayer(const nlohmann::json& cfg);

}  // namespace kws

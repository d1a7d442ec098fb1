// Hard swish (Howard et al. 2019, "Searching for MobileNetV3"; torch.nn.Hardswish, TFLite HARD_SWISH):
//   out = x * relu6(x + 3) / 6
//   din = dout * (0 if x < -3; x/3 + 1/2 if -3 <= x <= 3; 1 if x > 3)   (torch's hardswish_backward)
#pragma once
#include <memory>

#include "layers/layer.h"

namespace kws {

void hard_swish_forward(float* out, const float* in, size_t n);
void hard_swish_backward(float* din, const float* dout, const float* in, size_t n);

// Config: {"type":"hard_swish"}
class HardSwishLayer : public Layer {
 public:
  std::string type() const override { return "hard_swish"; }
  Shape OutputShape(const Shape& in) const override { return in; }
  void Build(const Shape& in, Rng& rng) override { input_shape = in; }
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
};

std::unique_ptr<Layer> MakeHardSwishLayer(const nlohmann::json& cfg);

}  // namespace kws

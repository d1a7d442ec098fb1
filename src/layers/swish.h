// Swish / SiLU (Ramachandran et al. 2017; Elfwing et al. 2018; torch.nn.SiLU, tf.nn.silu):
//   out = x * s,  s = sigmoid(x) = 1 / (1 + exp(-x))
//   din = dout * s * (1 + x * (1 - s))
// Exported as LOGISTIC + MUL (TFLite has no SILU builtin in the schema version kws writes).
#pragma once
#include <memory>

#include "layers/layer.h"

namespace kws {

void swish_forward(float* out, const float* in, size_t n);
void swish_backward(float* din, const float* dout, const float* in, size_t n);

// Config: {"type":"swish"}
class SwishLayer : public Layer {
 public:
  std::string type() const override { return "swish"; }
  Shape OutputShape(const Shape& in) const override { return in; }
  void Build(const Shape& in, Rng& rng) override { input_shape = in; }
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
};

std::unique_ptr<Layer> MakeSwishLayer(const nlohmann::json& cfg);

}  // namespace kws

// Global average pooling (Keras GlobalAveragePooling2D).
//   in: (N,H,W,C) -> out: (N,1,1,C), out[n,c] = mean_{h,w} in[n,h,w,c]
//   din[n,h,w,c] = dout[n,c] / (H*W)
#pragma once
#include <memory>

#include "layers/layer.h"

namespace kws {

void global_average_pool_forward(float* out, const float* in, int N, int HW, int C);
void global_average_pool_backward(float* din, const float* dout, int N, int HW, int C);

// Config: {"type":"global_average_pool"}
class GlobalAveragePoolLayer : public Layer {
 public:
  std::string type() const override { return "global_average_pool"; }
  Shape OutputShape(const Shape& in) const override { return {1, 1, in.c}; }
  void Build(const Shape& in, Rng& rng) override { input_shape = in; }
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
};

std::unique_ptr<Layer> MakeGlobalAveragePoolLayer(const nlohmann::json& cfg);

}  // namespace kws

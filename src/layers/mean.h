// Mean over one spatial axis, keeping it as size 1 (tf.reduce_mean(axis, keepdims=True); BC-ResNet's
// frequency average, PyTorch AdaptiveAvgPool2d((1, None)) in its (C, F, T) layout):
//   axis "w": in (N,H,W,C) -> out (N,H,1,C), out[n,h,0,c] = mean_w in[n,h,w,c]
//   axis "h": in (N,H,W,C) -> out (N,1,W,C), out[n,0,w,c] = mean_h in[n,h,w,c]
//   din = dout / (size of the axis), repeated along it
#pragma once
#include <memory>

#include "layers/layer.h"

namespace kws {

// The input seen as (outer, len, inner): the mean is over `len`, out is (outer, inner).
void mean_axis_forward(float* out, const float* in, long outer, int len, int inner);
void mean_axis_backward(float* din, const float* dout, long outer, int len, int inner);

// Config: {"type":"mean","axis":"w"}   ("h" = the first spatial axis (time for kws features),
//                                        "w" = the second (frequency))
class MeanLayer : public Layer {
 public:
  bool over_w = true;
  std::string type() const override { return "mean"; }
  Shape OutputShape(const Shape& in) const override { return over_w ? Shape{in.h, 1, in.c} : Shape{1, in.w, in.c}; }
  void Build(const Shape& in, Rng& rng) override { input_shape = in; }
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
};

std::unique_ptr<Layer> MakeMeanLayer(const nlohmann::json& cfg);

}  // namespace kws

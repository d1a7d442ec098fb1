// Average pooling (Keras AveragePooling2D), NHWC, TF SAME/VALID padding.
//   in: (N,IH,IW,C) -> out: (N,OH,OW,C)
//   out[n,oy,ox,c] = mean of the in-bounds taps of the window (SAME padding is
//   excluded from the count, as TF does)
//   din[n,iy,ix,c] = sum over windows containing (iy,ix) of dout / count(window)
#pragma once
#include <memory>

#include "layers/conv2d.h"

namespace kws {

void average_pool2d_forward(float* out, const float* in, const Conv2DShape& s);   // s.oc == s.ic
void average_pool2d_backward(float* din, const float* dout, const Conv2DShape& s);

// Config: {"type":"average_pool2d","pool_size":[2,2],"strides":<pool_size>,"padding":"valid"}
class AveragePool2DLayer : public Layer {
 public:
  int ph = 2, pw = 2, sh = 2, sw = 2;
  bool same = false;
  std::string type() const override { return "average_pool2d"; }
  Shape OutputShape(const Shape& in) const override;
  void Build(const Shape& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
  Conv2DShape Geometry(int batch) const;
};

std::unique_ptr<Layer> MakeAveragePool2DLayer(const nlohmann::json& cfg);

}  // namespace kws

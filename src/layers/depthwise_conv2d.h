// Depthwise 2-D convolution (Keras DepthwiseConv2D), NHWC, TF SAME/VALID padding.
//
//   in: (N,IH,IW,C)  weight: (KH,KW,C,DM)  bias: (C*DM) or null  out: (N,OH,OW,C*DM)
//   out[n,oy,ox,c*DM+m] = bias[c*DM+m] + sum_{ky,kx} in[n, oy*SH+ky*DH-PT, ox*SW+kx*DW-PL, c] * w[ky,kx,c,m]
// Geometry is a Conv2DShape with ic = C and oc = C*DM (dilation DH/DW and per-axis padding as conv2d.h).
#pragma once
#include <memory>
#include <vector>

#include "layers/conv2d.h"

namespace kws {

// Reference: per output pixel, plain loops (the specification).
void depthwise_conv2d_forward_ref(float* out, const float* in, const float* weight, const float* bias,
                                  const Conv2DShape& s);
void depthwise_conv2d_backward_ref(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                                   const float* weight, const Conv2DShape& s);
// Fast: batch-parallel; with depth multiplier 1, whole rows at a time (AVX2 when available), each
// element summed in the reference's order: results equal the reference bit for bit.
void depthwise_conv2d_forward(float* out, const float* in, const float* weight, const float* bias,
                              const Conv2DShape& s);
// Accumulates dweight/dbias (+=), writes din (din/dbias may be null). Parallel over
// the batch with per-chunk partials summed in chunk order (`partials` is scratch).
void depthwise_conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                               const float* weight, const Conv2DShape& s,
                               std::vector<std::vector<float>>* partials = nullptr);

// Config: {"type":"depthwise_conv2d","kernel":[3,3],"strides":[1,1],"padding":"same","depth_multiplier":1,
//          "use_bias":true,"dilation":[1,1]}  ("padding" may be a per-axis pair, as conv2d)
// Params: <name>/depthwise_kernel (KH,KW,C,DM) — never prunable (TF Model Optimization, tensorflow_model_optimization/python/core/sparsity/keras/), <name>/bias (C*DM).
class DepthwiseConv2DLayer : public Layer {
 public:
  int kh = 3, kw = 3, sh = 1, sw = 1, depth_multiplier = 1, dh = 1, dw = 1;
  bool same = false, use_bias = true;
  bool same_w = false;  // padding along W; `same` is H's (equal unless "padding" is a pair)
  Param kernel, bias;

  std::string type() const override { return "depthwise_conv2d"; }
  Shape OutputShape(const Shape& in) const override;
  void Build(const Shape& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  std::vector<Param*> Params() override;
  nlohmann::json Config() const override;
  int64_t Macs() const override;
  Conv2DShape Geometry(int batch) const;

 private:
  std::vector<std::vector<float>> partials_;
};

std::unique_ptr<Layer> MakeDepthwiseConv2DLayer(const nlohmann::json& cfg);

}  // namespace kws

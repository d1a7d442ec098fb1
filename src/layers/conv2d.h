// 2-D convolution (Keras Conv2D), NHWC, kernel HWIO, TF SAME/VALID padding.
//
//   in: (N,IH,IW,IC)  weight: (KH,KW,IC,OC)  bias: (OC) or null  out: (N,OH,OW,OC)
//   out[n,oy,ox,o] = bias[o] + sum_{ky,kx,i} in[n, oy*SH+ky*DH-PT, ox*SW+kx*DW-PL, i] * w[ky,kx,i,o]
//   (taps outside the input read 0; DH/DW = dilation, 1 by default; a dilated kernel spans
//   (K-1)*D+1 inputs, which is what SAME padding pads for, as tf.nn.conv2d does)
// Padding may differ per axis (e.g. SAME along time, VALID along frequency).
//
// Two implementations: *_ref (plain loops, the specification) and the fast
// one (im2col + small GEMM kernels, parallel over the batch with deterministic
// per-chunk weight-gradient partials summed in chunk order). Tests hold the
// fast one to the reference.
#pragma once
#include <memory>
#include <vector>

#include "layers/layer.h"
#include "layers/winograd.h"

namespace kws {

struct Conv2DShape {
  int n = 1, ih = 1, iw = 1, ic = 1;  // input
  int kh = 1, kw = 1, sh = 1, sw = 1;  // kernel, strides
  int pt = 0, pl = 0;                  // padding before (top, left); after is implied by oh/ow
  int oh = 1, ow = 1, oc = 1;          // output
  int dh = 1, dw = 1;                  // dilation
  bool dilated() const { return dh != 1 || dw != 1; }
};
// Geometry for an input shape; throws UsageError(where + ": ...") on empty outputs.
Conv2DShape MakeConv2DShape(const Shape& in, int kh, int kw, int sh, int sw, bool same, int oc,
                            const std::string& where);
// The same with SAME/VALID chosen per axis and a dilation.
Conv2DShape MakeConv2DShape(const Shape& in, int kh, int kw, int sh, int sw, bool same_h, bool same_w, int dh,
                            int dw, int oc, const std::string& where);

// Reference kernels. Backward accumulates dweight/dbias (+=) and WRITES din (din/dbias may be null).
void conv2d_forward_ref(float* out, const float* in, const float* weight, const float* bias, const Conv2DShape& s);
void conv2d_backward_ref(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                         const float* weight, const Conv2DShape& s);

// Scratch buffers the fast kernels reuse between calls (one set per parallel chunk).
struct Conv2DScratch {
  std::vector<std::vector<float>> col, dcol, dw, db;
  std::vector<float> wt;  // transposed weight (backward)
  std::vector<float> U;   // Winograd-transformed kernel
  std::vector<WinogradScratch> wino;
};
// Winograd F(2x2,3x3) is used for 3x3 stride-1 convs with >= 48 in and out channels on AVX2
// machines (it loses to the implicit GEMM below that); tests can turn it off.
void Conv2DAllowWinograd(bool allow);
void conv2d_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2DShape& s,
                    Conv2DScratch& scratch);
void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2DShape& s, Conv2DScratch& scratch);

// Config: {"type":"conv2d","filters":16,"kernel":[3,3],"strides":[1,1],"padding":"same"|"valid",
//          "use_bias":true,"dilation":[1,1]}   (Keras defaults: strides 1, padding valid, use_bias true,
//          dilation 1); "padding" may be a pair per axis, e.g. ["same","valid"] (H same, W valid).
// Params: <name>/kernel (KH,KW,IC,OC) prunable, <name>/bias (OC) when use_bias.
class Conv2DLayer : public Layer {
 public:
  int filters = 1, kh = 3, kw = 3, sh = 1, sw = 1, dh = 1, dw = 1;
  bool same = false, use_bias = true;
  bool same_w = false;  // padding along W; `same` is H's (equal unless "padding" is a pair)
  Param kernel, bias;

  std::string type() const override { return "conv2d"; }
  Shape OutputShape(const Shape& in) const override;
  void Build(const Shape& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  std::vector<Param*> Params() override;
  nlohmann::json Config() const override;
  int64_t Macs() const override;
  Conv2DShape Geometry(int batch) const;

 private:
  Conv2DScratch scratch_;
};

std::unique_ptr<Layer> MakeConv2DLayer(const nlohmann::json& cfg);

}  // namespace kws

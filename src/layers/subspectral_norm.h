// SubSpectral Normalization (Chang et al. 2021, "SubSpectral Normalization for Neural Audio Data
// Processing"; used by BC-ResNet, Kim et al. 2021): BatchNorm whose statistics and affine parameters
// are per channel AND per frequency sub-band. The frequency axis (W by default: kws features are
// (time, frequency)) is split into S equal bands; group (c, s) normalises the values of channel c in
// band s over the batch, time and the band's bins.
//
//   in/out: (N,H,W,C), W % S == 0, band of column w = w / (W/S)
//   training:  mean_g, var_g over the M = N*H*W/S values of group g (var biased)
//              out = gamma_g * (x - mean_g) / sqrt(var_g + eps) + beta_g
//              moving stats as kws's batchnorm (momentum, unbiased moving variance, as PyTorch)
//   inference: the same with the moving statistics
//   backward:  batchnorm_backward's formula per group
// Parameters are stored in PyTorch's order, index c*S + s (the reference implementation reshapes
// (N,C,F,T) to (N,C*S,F/S,T) and applies BatchNorm2d(C*S)), so trained weights carry over.
// At export it folds to one scale and one shift per (band, channel): a MUL and an ADD.
#pragma once
#include <memory>
#include <vector>

#include "layers/layer.h"

namespace kws {

struct SsnShape {
  int n = 1, h = 1, w = 1, c = 1, s = 1;
  bool over_w = true;  // bands along W (else along H)
  int Band(int y, int x) const { return over_w ? x / (w / s) : y / (h / s); }
  long PerGroup() const { return long(n) * h * w / s; }
};

// Training forward: writes mean/invstd/var_unbiased per group (index c*S + s) and out.
void subspectral_norm_forward_train(float* out, float* mean, float* invstd, float* var_unbiased, const float* in,
                                    const float* gamma, const float* beta, const SsnShape& s, float eps);
// Inference forward with given statistics.
void subspectral_norm_forward_infer(float* out, const float* in, const float* mean, const float* var,
                                    const float* gamma, const float* beta, const SsnShape& s, float eps);
// Training backward (statistics depend on the input); dgamma/dbeta accumulate, din (may be null) is written.
void subspectral_norm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                               const float* mean, const float* invstd, const float* gamma, const SsnShape& s);

// Config: {"type":"subspectral_norm","sub_bands":5,"axis":"w","momentum":0.99,"epsilon":0.001}
// Params: <name>/gamma, <name>/beta (C*S).  Buffers: <name>/moving_mean, <name>/moving_variance (C*S).
class SubSpectralNormLayer : public Layer {
 public:
  int sub_bands = 1;
  bool over_w = true;
  double momentum = 0.99, epsilon = 1e-3;
  Param gamma, beta, moving_mean, moving_variance;

  std::string type() const override { return "subspectral_norm"; }
  Shape OutputShape(const Shape& in) const override;
  void Build(const Shape& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  std::vector<Param*> Params() override { return {&gamma, &beta}; }
  std::vector<Param*> Buffers() override { return {&moving_mean, &moving_variance}; }
  nlohmann::json Config() const override;
  SsnShape Geometry(int batch) const;

 private:
  std::vector<float> mean_, invstd_, var_;
  bool last_training_ = false;
};

std::unique_ptr<Layer> MakeSubSpectralNormLayer(const nlohmann::json& cfg);

}  // namespace kws

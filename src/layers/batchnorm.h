// Batch normalisation over the channel axis (Keras BatchNormalization, axis=-1).
//
//   in/out: (M, C) with M = N*H*W rows (NHWC flattened)
//   training:  mean_c, var_c = batch statistics over M rows (var biased, divides by M)
//              xhat = (x - mean_c) / sqrt(var_c + eps);  out = gamma*xhat + beta
//              moving_mean = moving_mean*momentum + mean_c*(1-momentum)
//              moving_var  = moving_var*momentum + var_c*M/(M-1)*(1-momentum)   (unbiased!)
//   inference: the same with the moving statistics.
//
// Moving variance: tf.keras 2.x BatchNormalization uses the fused kernel for 4-D
// inputs (fused=None -> True) and keeps its Bessel-corrected batch variance for
// the moving average (_bessels_correction_test_only = True), so the moving
// variance tracks the UNBIASED variance, as PyTorch does. Keras 3 uses the
// biased one; set "unbiased_moving_variance": false to get that.
#pragma once
#include <memory>
#include <vector>

#include "layers/layer.h"

namespace kws {

// Normalises with batch statistics; writes mean/invstd (C each) for backward and
// var_unbiased (C) for the moving-average update.
void batchnorm_forward_train(float* out, float* mean, float* invstd, float* var_unbiased, const float* in,
                             const float* gamma, const float* beta, long M, int C, float eps);
// Normalises with given statistics (inference).
void batchnorm_forward_infer(float* out, const float* in, const float* mean, const float* var, const float* gamma,
                             const float* beta, long M, int C, float eps);
// Training-mode backward (statistics depend on the input):
//   dxhat = dout*gamma;  din = invstd/M * (M*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))
//   dgamma += sum(dout*xhat);  dbeta += sum(dout)
void batchnorm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                        const float* mean, const float* invstd, const float* gamma, long M, int C);

// Config: {"type":"batchnorm","momentum":0.99,"epsilon":0.001,"unbiased_moving_variance":true}
// Params: <name>/gamma, <name>/beta.  Buffers: <name>/moving_mean, <name>/moving_variance.
class BatchNormLayer : public Layer {
 public:
  double momentum = 0.99, epsilon = 1e-3;
  bool unbiased_moving_variance = true;
  Param gamma, beta, moving_mean, moving_variance;

  std::string type() const override { return "batchnorm"; }
  Shape OutputShape(const Shape& in) const override { return in; }
  void Build(const Shape& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  std::vector<Param*> Params() override { return {&gamma, &beta}; }
  std::vector<Param*> Buffers() override { return {&moving_mean, &moving_variance}; }
  nlohmann::json Config() const override;

 private:
  std::vector<float> mean_, invstd_, var_;
  bool last_training_ = false;
};

std::unique_ptr<Layer> MakeBatchNormLayer(const nlohmann::json& cfg);

}  // namespace kws

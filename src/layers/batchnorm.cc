#include "layers/batchnorm.h"

#include <cmath>

#include "layers/layer_util.h"

namespace kws {

// Statistics accumulate in double: M can be 25*97*20 = 48500 rows.
void batchnorm_forward_train(float* out, float* mean, float* invstd, float* var_unbiased, const float* in,
                             const float* gamma, const float* beta, long M, int C, float eps) {
  std::vector<double> sum(C, 0.0), sq(C, 0.0);
  for (long m = 0; m < M; ++m) {
    const float* x = in + m * C;
    for (int c = 0; c < C; ++c) sum[c] += x[c];
  }
  for (int c = 0; c < C; ++c) sum[c] /= double(M);  // now the mean
  for (long m = 0; m < M; ++m) {
    const float* x = in + m * C;
    for (int c = 0; c < C; ++c) {
      double d = x[c] - sum[c];
      sq[c] += d * d;
    }
  }
  std::vector<float> scale(C), shift(C);
  for (int c = 0; c < C; ++c) {
    double var = sq[c] / double(M);
    mean[c] = float(sum[c]);
    invstd[c] = float(1.0 / std::sqrt(var + eps));
    var_unbiased[c] = float(M > 1 ? sq[c] / double(M - 1) : var);
    scale[c] = gamma[c] * invstd[c];
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  for (long m = 0; m < M; ++m) {
    const float* x = in + m * C;
    float* o = out + m * C;
    for (int c = 0; c < C; ++c) o[c] = x[c] * scale[c] + shift[c];
  }
}

void batchnorm_forward_infer(float* out, const float* in, const float* mean, const float* var, const float* gamma,
                             const float* beta, long M, int C, float eps) {
  std::vector<float> scale(C), shift(C);
  for (int c = 0; c < C; ++c) {
    scale[c] = gamma[c] / std::sqrt(var[c] + eps);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  for (long m = 0; m < M; ++m) {
    const float* x = in + m * C;
    float* o = out + m * C;
    for (int c = 0; c < C; ++c) o[c] = x[c] * scale[c] + shift[c];
  }
}

void batchnorm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                        const float* mean, const float* invstd, const float* gamma, long M, int C) {
  std::vector<double> sum_d(C, 0.0), sum_dx(C, 0.0);  // sum(dout), sum(dout*xhat)
  for (long m = 0; m < M; ++m) {
    const float* x = in + m * C;
    const float* d = dout + m * C;
    for (int c = 0; c < C; ++c) {
      sum_d[c] += d[c];
      sum_dx[c] += d[c] * ((x[c] - mean[c]) * invstd[c]);
    }
  }
  for (int c = 0; c < C; ++c) {
    dgamma[c] += float(sum_dx[c]);
    dbeta[c] += float(sum_d[c]);
  }
  if (!din) return;
  std::vector<float> k(C), a(C), b(C);
  for (int c = 0; c < C; ++c) {
    k[c] = gamma[c] * invstd[c];                 // din = k*(d - a - xhat*b)
    a[c] = float(sum_d[c] / double(M));
    b[c] = float(sum_dx[c] / double(M));
  }
  for (long m = 0; m < M; ++m) {
    const float* x = in + m * C;
    const float* d = dout + m * C;
    float* o = din + m * C;
    for (int c = 0; c < C; ++c) {
      float xhat = (x[c] - mean[c]) * invstd[c];
      o[c] = k[c] * (d[c] - a[c] - xhat * b[c]);
    }
  }
}

void BatchNormLayer::Build(const Shape& in, Rng& rng) {
  input_shape = in;
  gamma = MakeParam(name + "/gamma", {in.c}, true, false);
  beta = MakeParam(name + "/beta", {in.c}, true, false);
  moving_mean = MakeParam(name + "/moving_mean", {in.c}, false, false);
  moving_variance = MakeParam(name + "/moving_variance", {in.c}, false, false);
  std::fill(gamma.value.begin(), gamma.value.end(), 1.0f);
  std::fill(moving_variance.value.begin(), moving_variance.value.end(), 1.0f);
}

void BatchNormLayer::Forward(const float* in, float* out, int batch, bool training) {
  const int C = input_shape.c;
  const long M = long(batch) * input_shape.h * input_shape.w;
  last_training_ = training;
  mean_.resize(C), invstd_.resize(C), var_.resize(C);
  if (!training) {
    batchnorm_forward_infer(out, in, moving_mean.value.data(), moving_variance.value.data(), gamma.value.data(),
                            beta.value.data(), M, C, float(epsilon));
    // Cached for a Backward in inference mode (frozen statistics).
    for (int c = 0; c < C; ++c) {
      mean_[c] = moving_mean.value[c];
      invstd_[c] = 1.0f / std::sqrt(moving_variance.value[c] + float(epsilon));
    }
    return;
  }
  batchnorm_forward_train(out, mean_.data(), invstd_.data(), var_.data(), in, gamma.value.data(), beta.value.data(),
                          M, C, float(epsilon));
  const float mom = float(momentum);
  for (int c = 0; c < C; ++c) {
    float v = var_[c];
    if (!unbiased_moving_variance && M > 1) v = float(double(v) * double(M - 1) / double(M));  // biased
    moving_mean.value[c] = moving_mean.value[c] * mom + mean_[c] * (1.0f - mom);
    moving_variance.value[c] = moving_variance.value[c] * mom + v * (1.0f - mom);
  }
}

void BatchNormLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  const int C = input_shape.c;
  const long M = long(batch) * input_shape.h * input_shape.w;
  if (last_training_) {
    batchnorm_backward(din, gamma.grad.data(), beta.grad.data(), dout, in, mean_.data(), invstd_.data(),
                       gamma.value.data(), M, C);
    return;
  }
  // Frozen statistics: out = gamma*(x-mean)*invstd + beta is affine in x.
  for (long m = 0; m < M; ++m)
    for (int c = 0; c < C; ++c) {
      float d = dout[m * C + c];
      float xhat = (in[m * C + c] - mean_[c]) * invstd_[c];
      gamma.grad[c] += d * xhat;
      beta.grad[c] += d;
      if (din) din[m * C + c] = d * gamma.value[c] * invstd_[c];
    }
}

nlohmann::json BatchNormLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"momentum", momentum}, {"epsilon", epsilon},
                      {"unbiased_moving_variance", unbiased_moving_variance}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeBatchNormLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<BatchNormLayer>();
  l->name = c.name();
  l->momentum = c.Float("momentum", 0.99, 0.0, 1.0);
  l->epsilon = c.Float("epsilon", 1e-3, 1e-12, 1.0);
  l->unbiased_moving_variance = c.Bool("unbiased_moving_variance", true);
  c.Finish();
  return l;
}

}  // namespace kws

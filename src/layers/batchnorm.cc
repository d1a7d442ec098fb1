#include "layers/batchnorm.h"

#include <algorithm>
#include <cmath>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

namespace {

// Per-channel column sums over rows [0, M) of a (M, C) matrix, as
// out[c] = sum_m f(m, c). Rows are split into ParallelFor chunks; within a
// chunk, blocks of 64 rows are summed in float (vectorisable) and the block
// sums added in double; chunk partials are combined in chunk order, so the
// result is deterministic for a given thread count.
template <class F>
void ColumnSums(std::vector<double>& out, long M, int C, F f) {
  const int chunks = NumThreads();
  std::vector<std::vector<double>> part(chunks, std::vector<double>(C, 0.0));
  std::vector<char> used(chunks, 0);
  ParallelFor(M, [&](long b, long e, int ch) {
    used[ch] = 1;
    std::vector<float> blk(C);
    auto& p = part[ch];
    for (long m0 = b; m0 < e; m0 += 64) {
      const long m1 = std::min(e, m0 + 64);
      std::fill(blk.begin(), blk.end(), 0.0f);
      for (long m = m0; m < m1; ++m) f(blk.data(), m);
      for (int c = 0; c < C; ++c) p[c] += blk[c];
    }
  });
  out.assign(C, 0.0);
  for (int ch = 0; ch < chunks; ++ch)
    if (used[ch])
      for (int c = 0; c < C; ++c) out[c] += part[ch][c];
}

// out = x*scale + shift per channel (rows in parallel).
void ScaleShift(float* out, const float* in, const float* scale, const float* shift, long M, int C) {
  ParallelFor(M, [&](long b, long e, int) {
    for (long m = b; m < e; ++m) {
      const float* __restrict x = in + m * C;
      float* __restrict o = out + m * C;
      for (int c = 0; c < C; ++c) o[c] = x[c] * scale[c] + shift[c];
    }
  });
}

}  // namespace

// Two passes (mean, then squared deviations) for accuracy; see ColumnSums.
void batchnorm_forward_train(float* out, float* mean, float* invstd, float* var_unbiased, const float* in,
                             const float* gamma, const float* beta, long M, int C, float eps) {
  std::vector<double> sum, sq;
  ColumnSums(sum, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict x = in + m * C;
    for (int c = 0; c < C; ++c) acc[c] += x[c];
  });
  for (int c = 0; c < C; ++c) mean[c] = float(sum[c] / double(M));
  ColumnSums(sq, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict x = in + m * C;
    for (int c = 0; c < C; ++c) {
      const float d = x[c] - mean[c];
      acc[c] += d * d;
    }
  });
  std::vector<float> scale(C), shift(C);
  for (int c = 0; c < C; ++c) {
    double var = sq[c] / double(M);
    invstd[c] = float(1.0 / std::sqrt(var + eps));
    var_unbiased[c] = float(M > 1 ? sq[c] / double(M - 1) : var);
    scale[c] = gamma[c] * invstd[c];
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  ScaleShift(out, in, scale.data(), shift.data(), M, C);
}

void batchnorm_forward_infer(float* out, const float* in, const float* mean, const float* var, const float* gamma,
                             const float* beta, long M, int C, float eps) {
  std::vector<float> scale(C), shift(C);
  for (int c = 0; c < C; ++c) {
    scale[c] = gamma[c] / std::sqrt(var[c] + eps);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  ScaleShift(out, in, scale.data(), shift.data(), M, C);
}

void batchnorm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                        const float* mean, const float* invstd, const float* gamma, long M, int C) {
  std::vector<double> sum_d, sum_dx;  // sum(dout), sum(dout*xhat)
  ColumnSums(sum_d, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict d = dout + m * C;
    for (int c = 0; c < C; ++c) acc[c] += d[c];
  });
  ColumnSums(sum_dx, M, C, [&](float* __restrict acc, long m) {
    const float* __restrict x = in + m * C;
    const float* __restrict d = dout + m * C;
    for (int c = 0; c < C; ++c) acc[c] += d[c] * ((x[c] - mean[c]) * invstd[c]);
  });
  for (int c = 0; c < C; ++c) {
    dgamma[c] += float(sum_dx[c]);
    dbeta[c] += float(sum_d[c]);
  }
  if (!din) return;
  // din = k*(d - a - xhat*b) = k*d - k*b*invstd*x + k*(b*invstd*mean - a)
  std::vector<float> k(C), kx(C), k0(C);
  for (int c = 0; c < C; ++c) {
    const float kc = gamma[c] * invstd[c];
    const float a = float(sum_d[c] / double(M)), b = float(sum_dx[c] / double(M));
    k[c] = kc;
    kx[c] = -kc * b * invstd[c];
    k0[c] = kc * (b * invstd[c] * mean[c] - a);
  }
  ParallelFor(M, [&](long b0, long e, int) {
    for (long m = b0; m < e; ++m) {
      const float* __restrict x = in + m * C;
      const float* __restrict d = dout + m * C;
      float* __restrict o = din + m * C;
      for (int c = 0; c < C; ++c) o[c] = k[c] * d[c] + kx[c] * x[c] + k0[c];
    }
  });
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

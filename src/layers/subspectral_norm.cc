#include "layers/subspectral_norm.h"

#include <algorithm>
#include <cmath>

#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {

namespace {

// Calls f(offset, band, len) for every contiguous run of one band in one example: offset = the run's
// first float, len = its floats (bands along W: a row's W/S columns of C channels; along H: W*C per row).
template <class F>
void ForRuns(const SsnShape& s, F f) {
  if (s.over_w) {
    const int wb = s.w / s.s;
    for (int y = 0; y < s.h; ++y)
      for (int b = 0; b < s.s; ++b) f((size_t(y) * s.w + size_t(b) * wb) * s.c, b, size_t(wb) * s.c);
  } else {
    const int hb = s.h / s.s;
    for (int y = 0; y < s.h; ++y) f(size_t(y) * s.w * s.c, y / hb, size_t(s.w) * s.c);
  }
}

// out[g] = sum over the batch of f(acc, n): per example, f adds its values into acc[band*C + c] (float);
// examples are added in double, chunk partials in chunk order (deterministic for a thread count).
// Returned in parameter order c*S + s.
template <class F>
std::vector<double> GroupSums(const SsnShape& s, F f) {
  const int G = s.s * s.c, chunks = NumThreads();
  std::vector<std::vector<double>> part(size_t(chunks), std::vector<double>(size_t(G), 0.0));
  std::vector<char> used(size_t(chunks), 0);
  ParallelForWork(s.n, long(s.n) * s.h * s.w * s.c, [&](long b, long e, int ch) {
    used[size_t(ch)] = 1;
    std::vector<float> acc(static_cast<size_t>(G));
    for (long n = b; n < e; ++n) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      f(acc.data(), n);
      for (int g = 0; g < G; ++g) part[size_t(ch)][size_t(g)] += acc[size_t(g)];
    }
  });
  std::vector<double> out(size_t(G), 0.0);
  for (int ch = 0; ch < chunks; ++ch)
    if (used[size_t(ch)])
      for (int band = 0; band < s.s; ++band)
        for (int c = 0; c < s.c; ++c) out[size_t(c) * s.s + band] += part[size_t(ch)][size_t(band) * s.c + c];
  return out;
}

// Per-group values (parameter order c*S + s) laid out per band: t[band*C + c].
std::vector<float> ByBand(const std::vector<float>& v, const SsnShape& s) {
  std::vector<float> t(v.size());
  for (int b = 0; b < s.s; ++b)
    for (int c = 0; c < s.c; ++c) t[size_t(b) * s.c + c] = v[size_t(c) * s.s + b];
  return t;
}

// Adds a run of len floats (channels interleaved, C per position) into acc[0..C): sum_j x[j*C + c].
inline void AddRun(float* __restrict acc, const float* __restrict x, size_t len, int C) {
  for (size_t j = 0; j < len; j += size_t(C))
    for (int c = 0; c < C; ++c) acc[c] += x[j + c];
}

// out = x*scale[g] + shift[g] (scale/shift in parameter order c*S + s).
void Affine(float* out, const float* in, const std::vector<float>& scale, const std::vector<float>& shift,
            const SsnShape& s) {
  const size_t per = size_t(s.h) * s.w * s.c;
  const std::vector<float> sc = ByBand(scale, s), sh = ByBand(shift, s);
  ParallelForWork(s.n, long(s.n) * s.h * s.w * s.c, [&](long b, long e, int) {
    for (long n = b; n < e; ++n)
      ForRuns(s, [&](size_t off, int band, size_t len) {
        const float* __restrict x = in + size_t(n) * per + off;
        float* __restrict o = out + size_t(n) * per + off;
        const float* __restrict k = &sc[size_t(band) * s.c];
        const float* __restrict t = &sh[size_t(band) * s.c];
        for (size_t j = 0; j < len; j += size_t(s.c))
          for (int c = 0; c < s.c; ++c) o[j + c] = x[j + c] * k[c] + t[c];
      });
  });
}

}  // namespace

void subspectral_norm_forward_train(float* out, float* mean, float* invstd, float* var_unbiased, const float* in,
                                    const float* gamma, const float* beta, const SsnShape& s, float eps) {
  const size_t per = size_t(s.h) * s.w * s.c;
  const long M = s.PerGroup();
  const std::vector<double> sum = GroupSums(s, [&](float* acc, long n) {
    ForRuns(s, [&](size_t off, int band, size_t len) { AddRun(acc + size_t(band) * s.c, in + size_t(n) * per + off, len, s.c); });
  });
  for (size_t g = 0; g < sum.size(); ++g) mean[g] = float(sum[g] / double(M));
  const std::vector<float> mb = ByBand(std::vector<float>(mean, mean + sum.size()), s);
  const std::vector<double> sq = GroupSums(s, [&](float* acc, long n) {
    ForRuns(s, [&](size_t off, int band, size_t len) {
      const float* __restrict x = in + size_t(n) * per + off;
      const float* __restrict m = &mb[size_t(band) * s.c];
      float* __restrict a = acc + size_t(band) * s.c;
      for (size_t j = 0; j < len; j += size_t(s.c))
        for (int c = 0; c < s.c; ++c) {
          const float d = x[j + c] - m[c];
          a[c] += d * d;
        }
    });
  });
  std::vector<float> scale(sum.size()), shift(sum.size());
  for (size_t g = 0; g < sum.size(); ++g) {
    const double var = sq[g] / double(M);
    invstd[g] = float(1.0 / std::sqrt(var + eps));
    var_unbiased[g] = float(M > 1 ? sq[g] / double(M - 1) : var);
    scale[g] = gamma[g] * invstd[g];
    shift[g] = beta[g] - mean[g] * scale[g];
  }
  Affine(out, in, scale, shift, s);
}

void subspectral_norm_forward_infer(float* out, const float* in, const float* mean, const float* var,
                                    const float* gamma, const float* beta, const SsnShape& s, float eps) {
  const size_t G = size_t(s.s) * s.c;
  std::vector<float> scale(G), shift(G);
  for (size_t g = 0; g < G; ++g) {
    scale[g] = gamma[g] / std::sqrt(var[g] + eps);
    shift[g] = beta[g] - mean[g] * scale[g];
  }
  Affine(out, in, scale, shift, s);
}

void subspectral_norm_backward(float* din, float* dgamma, float* dbeta, const float* dout, const float* in,
                               const float* mean, const float* invstd, const float* gamma, const SsnShape& s) {
  const size_t per = size_t(s.h) * s.w * s.c, G = size_t(s.s) * s.c;
  const long M = s.PerGroup();
  const std::vector<double> sum_d = GroupSums(s, [&](float* acc, long n) {
    ForRuns(s, [&](size_t off, int band, size_t len) { AddRun(acc + size_t(band) * s.c, dout + size_t(n) * per + off, len, s.c); });
  });
  const std::vector<float> mb = ByBand(std::vector<float>(mean, mean + G), s);
  const std::vector<float> ib = ByBand(std::vector<float>(invstd, invstd + G), s);
  const std::vector<double> sum_dx = GroupSums(s, [&](float* acc, long n) {
    ForRuns(s, [&](size_t off, int band, size_t len) {
      const float* __restrict d = dout + size_t(n) * per + off;
      const float* __restrict x = in + size_t(n) * per + off;
      const float* __restrict m = &mb[size_t(band) * s.c];
      const float* __restrict is = &ib[size_t(band) * s.c];
      float* __restrict a = acc + size_t(band) * s.c;
      for (size_t j = 0; j < len; j += size_t(s.c))
        for (int c = 0; c < s.c; ++c) a[c] += d[j + c] * ((x[j + c] - m[c]) * is[c]);
    });
  });
  for (size_t g = 0; g < G; ++g) dgamma[g] += float(sum_dx[g]), dbeta[g] += float(sum_d[g]);
  if (!din) return;
  // din = k*d + kx*x + k0 per group (batchnorm_backward's rearrangement), laid out per band.
  std::vector<float> k(G), kx(G), k0(G);
  for (size_t g = 0; g < G; ++g) {
    const float kc = gamma[g] * invstd[g], a = float(sum_d[g] / double(M)), b = float(sum_dx[g] / double(M));
    k[g] = kc, kx[g] = -kc * b * invstd[g], k0[g] = kc * (b * invstd[g] * mean[g] - a);
  }
  const std::vector<float> kb = ByBand(k, s), kxb = ByBand(kx, s), k0b = ByBand(k0, s);
  ParallelForWork(s.n, long(s.n) * s.h * s.w * s.c, [&](long b, long e, int) {
    for (long n = b; n < e; ++n)
      ForRuns(s, [&](size_t off, int band, size_t len) {
        const float* __restrict d = dout + size_t(n) * per + off;
        const float* __restrict x = in + size_t(n) * per + off;
        float* __restrict o = din + size_t(n) * per + off;
        const float *__restrict k1 = &kb[size_t(band) * s.c], *__restrict k2 = &kxb[size_t(band) * s.c],
                    *__restrict k3 = &k0b[size_t(band) * s.c];
        for (size_t j = 0; j < len; j += size_t(s.c))
          for (int c = 0; c < s.c; ++c) o[j + c] = k1[c] * d[j + c] + k2[c] * x[j + c] + k3[c];
      });
  });
}

Shape SubSpectralNormLayer::OutputShape(const Shape& in) const {
  const int len = over_w ? in.w : in.h;
  if (len % sub_bands != 0)
    throw UsageError("layer '" + (name.empty() ? type() : name) + "': " + std::to_string(len) + " " +
                     (over_w ? "columns (W)" : "rows (H)") + " do not split into " + std::to_string(sub_bands) +
                     " equal sub-bands");
  return in;
}

SsnShape SubSpectralNormLayer::Geometry(int batch) const {
  return {batch, input_shape.h, input_shape.w, input_shape.c, sub_bands, over_w};
}

void SubSpectralNormLayer::Build(const Shape& in, Rng&) {
  OutputShape(in);
  input_shape = in;
  const int G = in.c * sub_bands;
  gamma = MakeParam(name + "/gamma", {G}, true, false);
  beta = MakeParam(name + "/beta", {G}, true, false);
  moving_mean = MakeParam(name + "/moving_mean", {G}, false, false);
  moving_variance = MakeParam(name + "/moving_variance", {G}, false, false);
  std::fill(gamma.value.begin(), gamma.value.end(), 1.0f);
  std::fill(moving_variance.value.begin(), moving_variance.value.end(), 1.0f);
}

void SubSpectralNormLayer::Forward(const float* in, float* out, int batch, bool training) {
  const SsnShape s = Geometry(batch);
  const size_t G = size_t(sub_bands) * input_shape.c;
  last_training_ = training;
  mean_.resize(G), invstd_.resize(G), var_.resize(G);
  if (!training) {
    subspectral_norm_forward_infer(out, in, moving_mean.value.data(), moving_variance.value.data(),
                                   gamma.value.data(), beta.value.data(), s, float(epsilon));
    for (size_t g = 0; g < G; ++g) {  // for a Backward in inference mode (frozen statistics)
      mean_[g] = moving_mean.value[g];
      invstd_[g] = 1.0f / std::sqrt(moving_variance.value[g] + float(epsilon));
    }
    return;
  }
  subspectral_norm_forward_train(out, mean_.data(), invstd_.data(), var_.data(), in, gamma.value.data(),
                                 beta.value.data(), s, float(epsilon));
  const float mom = float(momentum);
  for (size_t g = 0; g < G; ++g) {
    moving_mean.value[g] = moving_mean.value[g] * mom + mean_[g] * (1.0f - mom);
    moving_variance.value[g] = moving_variance.value[g] * mom + var_[g] * (1.0f - mom);
  }
}

void SubSpectralNormLayer::Backward(const float* in, const float*, const float* dout, float* din, int batch) {
  const SsnShape s = Geometry(batch);
  if (last_training_) {
    subspectral_norm_backward(din, gamma.grad.data(), beta.grad.data(), dout, in, mean_.data(), invstd_.data(),
                              gamma.value.data(), s);
    return;
  }
  // Frozen statistics: affine in x.
  const size_t per = size_t(s.h) * s.w * s.c;
  for (int n = 0; n < s.n; ++n)
    ForRuns(s, [&](size_t off, int band, size_t len) {
      for (size_t j = 0; j < len; ++j) {
        const size_t g = size_t(j % size_t(s.c)) * s.s + band, i = size_t(n) * per + off + j;
        const float d = dout[i], xhat = (in[i] - mean_[g]) * invstd_[g];
        gamma.grad[g] += d * xhat;
        beta.grad[g] += d;
        if (din) din[i] = d * gamma.value[g] * invstd_[g];
      }
    });
}

nlohmann::json SubSpectralNormLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"sub_bands", sub_bands}, {"axis", over_w ? "w" : "h"},
                      {"momentum", momentum}, {"epsilon", epsilon}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeSubSpectralNormLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<SubSpectralNormLayer>();
  l->name = c.name();
  l->sub_bands = c.Int("sub_bands", 0, 1);
  l->over_w = c.Choice("axis", "w", {"h", "w"}) == "w";
  l->momentum = c.Float("momentum", 0.99, 0.0, 1.0);
  l->epsilon = c.Float("epsilon", 1e-3, 1e-12, 1.0);
  c.Finish();
  return l;
}

}  // namespace kws

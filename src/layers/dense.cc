#include "layers/dense.h"

#include <vector>

#include "layers/gemm.h"
#include "layers/layer_util.h"

namespace kws {

// The layers' own GEMM kernels (gemm.h), single-threaded: dense layers here are tiny.
void dense_forward(float* out, const float* in, const float* weight, const float* bias, int N, int K, int U) {
  gemm_nn(out, in, weight, N, K, U);
  if (bias)
    for (int n = 0; n < N; ++n)
      for (int u = 0; u < U; ++u) out[size_t(n) * U + u] += bias[u];
}

void dense_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                    const float* weight, int N, int K, int U) {
  gemm_tn_acc(dweight, in, dout, N, K, U);  // dW += in^T dout
  if (dbias)
    for (int n = 0; n < N; ++n)
      for (int u = 0; u < U; ++u) dbias[u] += dout[size_t(n) * U + u];
  if (din) {  // din[n,k] = sum_u dout[n,u] * w[k,u]
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) {
        float acc = 0.0f;
        for (int u = 0; u < U; ++u) acc += dout[size_t(n) * U + u] * weight[size_t(k) * U + u];
        din[size_t(n) * K + k] = acc;
      }
  }
}

void DenseLayer::Build(const Shape& in, Rng& rng) {
  input_shape = in;
  const int K = int(in.size());
  kernel = MakeParam(name + "/kernel", {K, units}, true, true);
  GlorotUniform(kernel.value, K, units, rng);
  if (use_bias) bias = MakeParam(name + "/bias", {units}, true, false);
}

void DenseLayer::Forward(const float* in, float* out, int batch, bool training) {
  dense_forward(out, in, kernel.value.data(), use_bias ? bias.value.data() : nullptr, batch,
                int(input_shape.size()), units);
}

void DenseLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  dense_backward(din, kernel.grad.data(), use_bias ? bias.grad.data() : nullptr, dout, in, kernel.value.data(),
                 batch, int(input_shape.size()), units);
}

std::vector<Param*> DenseLayer::Params() {
  if (use_bias) return {&kernel, &bias};
  return {&kernel};
}

nlohmann::json DenseLayer::Config() const {
  nlohmann::json j = {{"type", type()}, {"units", units}, {"use_bias", use_bias}};
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeDenseLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<DenseLayer>();
  l->name = c.name();
  l->units = c.Int("units", 0, 1);
  l->use_bias = c.Bool("use_bias", true);
  c.Finish();
  return l;
}

}  // namespace kws

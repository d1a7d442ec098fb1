#include "layers/dense.h"

#include <Eigen/Core>

#include "layers/layer_util.h"

namespace kws {

using MatRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void dense_forward(float* out, const float* in, const float* weight, const float* bias, int N, int K, int U) {
  Eigen::Map<MatRM> o(out, N, U);
  o.noalias() = Eigen::Map<const MatRM>(in, N, K) * Eigen::Map<const MatRM>(weight, K, U);
  if (bias) o.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias, U);
}

void dense_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                    const float* weight, int N, int K, int U) {
  Eigen::Map<const MatRM> d(dout, N, U), x(in, N, K), w(weight, K, U);
  Eigen::Map<MatRM>(dweight, K, U).noalias() += x.transpose() * d;
  if (dbias) Eigen::Map<Eigen::RowVectorXf>(dbias, U) += d.colwise().sum();
  if (din) Eigen::Map<MatRM>(din, N, K).noalias() = d * w.transpose();
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

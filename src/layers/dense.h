// Fully connected layer (Keras Dense after Flatten).
//   in: (N, K) with K = H*W*C of the input shape (flattened in NHWC order)
//   weight: (K, U)  bias: (U)  out: (N,1,1,U)
//   out = in @ weight + bias;  dweight += in^T @ dout;  dbias += sum_n dout;  din = dout @ weight^T
// Note: Keras Dense on a 4-D tensor acts on the last axis only; kws' dense
// flattens first (the seed model puts it after global pooling, where both agree).
#pragma once
#include <memory>

#include "layers/layer.h"

namespace kws {

void dense_forward(float* out, const float* in, const float* weight, const float* bias, int N, int K, int U);
void dense_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                    const float* weight, int N, int K, int U);

// Config: {"type":"dense","units":2,"use_bias":true}
// Params: <name>/kernel (K,U) prunable, <name>/bias (U).
class DenseLayer : public Layer {
 public:
  int units = 1;
  bool use_bias = true;
  Param kernel, bias;

  std::string type() const override { return "dense"; }
  Shape OutputShape(const Shape& in) const override { return {1, 1, units}; }
  void Build(const Shape& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  std::vector<Param*> Params() override;
  nlohmann::json Config() const override;
  int64_t Macs() const override { return int64_t(input_shape.size()) * units; }
};

std::unique_ptr<Layer> MakeDenseLayer(const nlohmann::json& cfg);

}  // namespace kws

// Concatenation along the channel axis (Keras Concatenate(axis=-1)):
//   in_k: (N,H,W,C_k) with equal H, W  ->  out: (N,H,W,sum C_k), channels of in_0 first
//   din_k = the channel slice of dout that in_k filled
#pragma once
#include <memory>
#include <vector>

#include "layers/layer.h"

namespace kws {

void concat_forward(float* out, const std::vector<const float*>& in, const std::vector<int>& channels, long pixels);
void concat_backward(const std::vector<float*>& din, const float* dout, const std::vector<int>& channels, long pixels);

// Config: {"type":"concat","inputs":["a","b"]}
class ConcatLayer : public Layer {
 public:
  std::string type() const override { return "concat"; }
  int min_inputs() const override { return 2; }
  int max_inputs() const override { return 64; }
  Shape OutputShape(const Shape& in) const override;
  Shape OutputShapeN(const std::vector<Shape>& in) const override;
  void Build(const Shape& in, Rng& rng) override;
  void BuildN(const std::vector<Shape>& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  void ForwardN(const std::vector<const float*>& in, float* out, int batch, bool training) override;
  void BackwardN(const std::vector<const float*>& in, const float* out, const float* dout,
                 const std::vector<float*>& din, int batch) override;
  nlohmann::json Config() const override;

 private:
  std::vector<int> Channels() const;
};

std::unique_ptr<Layer> MakeConcatLayer(const nlohmann::json& cfg);

}  // namespace kws

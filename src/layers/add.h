// Element-wise sum of two or more inputs with broadcasting (Keras Add, NumPy rules per axis of
// (H, W, C)): each input axis is either the output's size or 1, and an axis of size 1 is repeated.
//
//   out[n,h,w,c] = sum_k in_k[n, h or 0, w or 0, c or 0]      (the BC-ResNet broadcast: (T,1,C) + (T,F,C))
//   din_k[n,h',w',c'] = sum of dout over the positions that read in_k[n,h',w',c']
//                       (dout itself when in_k has the output's shape)
// Inputs are summed in order (in_0 + in_1 + ...), as PyTorch's x + y + z.
#pragma once
#include <memory>
#include <vector>

#include "layers/layer.h"

namespace kws {

// out (N, o) = sum of in[k] (N, s[k]); every s[k] broadcastable to o.
void add_forward(float* out, const std::vector<const float*>& in, const std::vector<Shape>& s, const Shape& o, int N);
// din[k] (may be null) = dout reduced to s[k].
void add_backward(const std::vector<float*>& din, const float* dout, const std::vector<Shape>& s, const Shape& o,
                  int N);
// The broadcast shape of `in`, or UsageError("<where>: cannot add shapes 98x1x8 and 49x20x8").
Shape BroadcastShape(const std::vector<Shape>& in, const std::string& where);

// Config: {"type":"add","inputs":["a","b"]}   (the model wires the inputs; see model/model.h)
class AddLayer : public Layer {
 public:
  std::string type() const override { return "add"; }
  int min_inputs() const override { return 2; }
  int max_inputs() const override { return 64; }
  Shape OutputShape(const Shape& in) const override;  // one input: a usage error
  Shape OutputShapeN(const std::vector<Shape>& in) const override;
  void Build(const Shape& in, Rng& rng) override;
  void BuildN(const std::vector<Shape>& in, Rng& rng) override;
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  void ForwardN(const std::vector<const float*>& in, float* out, int batch, bool training) override;
  void BackwardN(const std::vector<const float*>& in, const float* out, const float* dout,
                 const std::vector<float*>& din, int batch) override;
  nlohmann::json Config() const override;
};

std::unique_ptr<Layer> MakeAddLayer(const nlohmann::json& cfg);

}  // namespace kws

// MakeLayer: the table of layer types. A new layer adds one line here (an
// explicit table, because static self-registration is dropped by the linker
// when libkws is a static library).
#include "layers/layer.h"

#include <functional>
#include <map>

#include "layers/add.h"
#include "layers/average_pool2d.h"
#include "layers/batchnorm.h"
#include "layers/concat.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/depthwise_conv2d.h"
#include "layers/dropout.h"
#include "layers/global_average_pool.h"
#include "layers/hard_swish.h"
#include "layers/layer_util.h"
#include "layers/max_pool2d.h"
#include "layers/mean.h"
#include "layers/relu.h"
#include "layers/reshape.h"
#include "layers/subspectral_norm.h"
#include "layers/swish.h"
#include "util/error.h"

namespace kws {

namespace {
using Factory = std::function<std::unique_ptr<Layer>(const nlohmann::json&)>;
const std::map<std::string, Factory>& Table() {
  static const std::map<std::string, Factory> t = {
      {"conv2d", MakeConv2DLayer},
      {"batchnorm", MakeBatchNormLayer},
      {"relu", MakeReluLayer},
      {"global_average_pool", MakeGlobalAveragePoolLayer},
      {"dense", MakeDenseLayer},
      {"depthwise_conv2d", MakeDepthwiseConv2DLayer},
      {"average_pool2d", MakeAveragePool2DLayer},
      {"max_pool2d", MakeMaxPool2DLayer},
      {"dropout", MakeDropoutLayer},
      {"add", MakeAddLayer},
      {"concat", MakeConcatLayer},
      {"mean", MakeMeanLayer},
      {"reshape", MakeReshapeLayer},
      {"swish", MakeSwishLayer},
      {"hard_swish", MakeHardSwishLayer},
      {"subspectral_norm", MakeSubSpectralNormLayer},
  };
  return t;
}
}  // namespace

std::unique_ptr<Layer> MakeLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);  // validates object/type/name
  auto it = Table().find(c.type());
  if (it == Table().end()) {
    std::string known;
    for (auto& [k, v] : Table()) known += (known.empty() ? "" : ", ") + k;
    c.Fail("unknown type '" + c.type() + "' (known: " + known + ")");
  }
  return it->second(cfg);
}


Shape Layer::OutputShapeN(const std::vector<Shape>& in) const {
  CheckInputCount(*this, in.size());
  return OutputShape(in[0]);
}

void Layer::BuildN(const std::vector<Shape>& in, Rng& rng) {
  CheckInputCount(*this, in.size());
  Build(in[0], rng);
  input_shapes = in;
}

void Layer::ForwardN(const std::vector<const float*>& in, float* out, int batch, bool training) {
  Forward(in[0], out, batch, training);
}

void Layer::BackwardN(const std::vector<const float*>& in, const float* out, const float* dout,
                      const std::vector<float*>& din, int batch) {
  Backward(in[0], out, dout, din[0], batch);
}

Shape OutputShapeOf(const std::vector<std::unique_ptr<Layer>>& layers, Shape in) {
  for (auto& l : layers) in = l->OutputShape(in);
  return in;
}

}  // namespace kws

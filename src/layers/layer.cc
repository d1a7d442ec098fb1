// MakeLayer: the table of layer types. A new layer adds one line here (an
// explicit table, because static self-registration is dropped by the linker
// when libkws is a static library).
#include "layers/layer.h"

#include <functional>
#include <map>

#include "layers/average_pool2d.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/depthwise_conv2d.h"
#include "layers/dropout.h"
#include "layers/global_average_pool.h"
#include "layers/layer_util.h"
#include "layers/max_pool2d.h"
#include "layers/relu.h"
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

Shape OutputShapeOf(const std::vector<std::unique_ptr<Layer>>& layers, Shape in) {
  for (auto& l : layers) in = l->OutputShape(in);
  return in;
}

}  // namespace kws

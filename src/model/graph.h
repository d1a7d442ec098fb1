// The layer graph of a model config: every [[model.layers]] entry becomes a kws::Layer; its
// `inputs` (a layer name or a list of names; "input" = the model input; default: the layer listed
// before it) become edges; the layers are put in a topological order that keeps the listed order
// wherever the edges allow (so a Sequential list keeps its order exactly).
//
//   [[model.layers]]  type = "depthwise_conv2d"  name = "f2"  kernel = [1, 3]  padding = "same"
//   [[model.layers]]  type = "mean"  axis = "w"                   # reads f2
//   [[model.layers]]  type = "add"  inputs = ["mean_1", "f2"]     # (T,1,C) + (T,F,C)
//
// Refused with a UsageError naming the layer: a name used twice or the reserved name "input", an
// input naming no layer, a cycle (the message lists it), a layer whose output no layer reads (the
// model's output is the last listed layer), and a wrong number of inputs for the layer type.
#pragma once
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/layer.h"

namespace kws {

struct LayerGraph {
  std::vector<std::unique_ptr<Layer>> layers;  // execution order; the last is the output
  std::vector<std::vector<int>> inputs;        // per layer: producers in execution order (-1 = model input)
};

// `layers`: the resolved list (ResolveLayers: no trailing softmax). Names missing from the config
// become "<type>_<k>" (k counts per type from 1, in listed order).
LayerGraph MakeLayerGraph(const nlohmann::json& layers);

// The "inputs" entry of layer i for a layer list in execution order: null when it reads the layer
// before it (or the model input, for the first), else the producer names.
nlohmann::json InputsJson(const std::vector<std::unique_ptr<Layer>>& layers, const std::vector<std::vector<int>>& inputs,
                          size_t i);

}  // namespace kws

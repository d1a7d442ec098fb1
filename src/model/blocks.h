// Reusable blocks in a model config: a named list of layers with parameters, expanded in place
// (any number of times) before the model is built, so a BC-ResNet stage is a few lines.
//
//   [[model.blocks]]
//   name = "bc_block"
//   params = { channels = 8, dilation = 1 }      # every parameter with its default
//   [[model.blocks.layers]]
//   type = "depthwise_conv2d"
//   name = "f2"
//   kernel = [1, 3]
//   padding = "same"
//   [[model.blocks.layers]]
//   type = "add"
//   inputs = ["f1", "f2", "input"]              # "input" = the block's input
//   ...
//
//   [[model.layers]]
//   type = "block"
//   block = "bc_block"
//   name = "stage1"
//   repeat = 2                                   # default 1
//   dilation = 2                                 # parameters (the rest keep their defaults)
//
// A string value "$name" anywhere in a block layer (also inside arrays) is replaced by the parameter.
// Expanded layer names are "<instance>/<layer>" (repeat 1) or "<instance>_<k>/<layer>" (k = 1..repeat);
// unnamed block layers are called "<type>_<j>" (j counts per type within the block). Repeat k reads
// repeat k-1's output; the first reads the instance's `inputs` (one name) or the layer listed before
// it. Other layers may name an instance as an input: that is its last repeat's last layer.
// Errors name the layer: an unknown block, repeat < 1, an unknown or missing parameter, an input that
// is not a layer of the block, a block inside a block.
#pragma once
#include <nlohmann/json.hpp>

namespace kws {

// `layers`: model.layers as written; `blocks`: model.blocks (null or an array). Returns the flat list.
nlohmann::json ExpandBlocks(const nlohmann::json& layers, const nlohmann::json& blocks);

}  // namespace kws

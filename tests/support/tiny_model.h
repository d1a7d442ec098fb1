// The tiny model the trainer and search tests train in seconds: conv2d(4, 3x3, stride 2) + BN + ReLU +
// global average pool + Dense + Softmax, as [[model.layers]] TOML to splice into a config.
#pragma once

namespace kws_test {

inline constexpr const char* kTinyLayers = R"(
[[model.layers]]
type = "conv2d"
filters = 4
kernel = [3, 3]
strides = [2, 2]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
momentum = 0.8     # few steps in these tests: let the moving statistics settle
[[model.layers]]
type = "relu"
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"
[[model.layers]]
type = "softmax"
)";;

}  // namespace kws_test

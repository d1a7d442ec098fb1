// Trained kws::Model -> export IR (inference graph in TFLite terms).
//
//   conv2d / depthwise_conv2d / dense      -> CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED
//       kernels transposed to TFLite layouts (conv HWIO -> OHWI, dense [in,out] -> [out,in]; depthwise
//       [kh,kw,C,M] is already [1,kh,kw,C*M]); pruning masks applied (pruned weights stay exact zeros);
//       missing bias -> zeros
//       dilation -> the options' dilation factors; SAME on one axis and VALID on the other -> PAD + VALID
//   batchnorm after one of those          -> folded: s = gamma/sqrt(var+eps); w' = w*s[o]; b' = (b-mean)*s+beta
//   batchnorm anywhere else               -> DEPTHWISE_CONV_2D 1x1 with weights s, bias beta-mean*s
//   subspectral_norm                      -> folded the same way per (band, channel): MUL + ADD by constants
//   relu right after a conv/dense/add (+BN) -> fused activation RELU
//   dropout                               -> dropped (inference is identity)
//   global_average_pool                   -> MEAN over H,W ([1,C])
//   mean (one axis)                       -> MEAN over that axis, keep_dims
//   average_pool2d / max_pool2d           -> AVERAGE_POOL_2D / MAX_POOL_2D
//   add / concat / reshape                -> ADD (broadcasting; k inputs: k-1 ADDs) / CONCATENATION / RESHAPE
//   swish / hard_swish                    -> LOGISTIC + MUL / HARD_SWISH
//   end                                   -> SOFTMAX (beta 1) when `softmax` (probabilities out)
//   word classes (Model::output_map)      -> FULLY_CONNECTED summing each label's class probabilities
// Folding and fusing happen only into an op whose output that one layer reads (graphs: not across a
// branch). A relu that cannot be fused (e.g. after a pool) is a UsageError naming the layer.
#pragma once
#include "export/graph.h"
#include "model/model.h"

namespace kws {

ir::Graph GraphFromModel(const Model& model, bool softmax = true);

}  // namespace kws

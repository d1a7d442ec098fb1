// Synthetic export graphs with seeded random weights, shaped like the networks kws trains, for
// exporter/loader tests and size/latency benchmarks (no trained model needed).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "export/graph.h"

namespace kws::ir {

struct SyntheticOptions {
  // "seed":      input 1x97x20x1; 4 x (Conv 3x3, 16 filters, strides 2,1,1,1, SAME, ReLU); MEAN; FC; Softmax
  // "depthwise": Conv 3x3 s2 -> 2 x (DepthwiseConv 3x3 + Conv 1x1), ReLU; MEAN; FC; Softmax
  // "pools":     Conv s1 -> MaxPool 2x2 -> Conv -> AvgPool 3x3 s2 SAME -> Conv; MEAN; FC; Softmax
  // "reshape":   Conv s2 -> Conv s2 -> AvgPool 2x2 -> Reshape [1, N] -> FC (ReLU) -> FC; Softmax
  // "merged":    Conv s2 -> Conv s2; MEAN; FC; Softmax (always); FC with 0/1 weights summing classes
  //              3.. into output 3 (data.unknown_subclasses' export; min(classes, 4) outputs)
  std::string kind = "seed";
  int height = 97, width = 20;  // input frames x features
  int filters = 16;
  int classes = 12;
  double sparsity = 0.0;        // fraction of conv/FC weights zeroed (smallest magnitudes, per tensor)
  uint64_t seed = 1;
  bool softmax = true;
};

Graph MakeSyntheticGraph(const SyntheticOptions& o);

// Random inputs shaped like log-mel features (values roughly in [-12, 4]), seeded.
std::vector<std::vector<float>> SyntheticInputs(const Graph& g, int count, uint64_t seed);

}  // namespace kws::ir

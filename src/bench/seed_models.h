// Seed-shaped .tflite models with random weights and kws metadata (float, dynamic-range, int8), built
// from the exporter's synthetic "seed" graph (export/synthetic.h): input 1x97x20x1 log-mel;
// Conv 3x3x1x16 stride 2 -> 49x10x16, three Conv 3x3x16x16, MEAN, FC 16->classes, Softmax.
// For `kws bench`/`kws infer` tests and the peer benchmark when no trained model is at hand.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kws {

struct SeedModelOptions {
  int classes = 2;
  double sparsity = 0.85;  // fraction of each conv/FC kernel zeroed (smallest |w|)
  uint64_t seed = 1;
  std::vector<std::string> labels;  // default: "label0".."labelN-1" (or yes/no for 2 classes)
};

struct SeedModelPaths {
  std::string float_path, dynamic_path, int8_path;
};

// Writes <dir>/<prefix>_float.tflite, _dynamic.tflite, _int8.tflite (atomically; dir is created).
SeedModelPaths WriteSeedModels(const std::string& dir, const std::string& prefix, const SeedModelOptions& o);

}  // namespace kws

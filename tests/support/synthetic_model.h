// Seed-shaped .tflite models with random weights, for the runtime's tests and
// benchmark and the comparison against the official interpreter (test support: not in libkws).
// Same topology as the seed recipe (the course recipe: README): 4 × (CONV_2D 3×3, 16 filters,
// fused ReLU; strides 1,2,2,1) → MEAN over H,W → FULLY_CONNECTED → SOFTMAX,
// on a [1, frames, bins, 1] input (~2 M MACs at 97×20).
//
// kInt8 calibrates activation ranges by running the float model (kws's own
// runtime) on random inputs, then writes a full-int8 model (int8 in/out,
// per-channel conv weights, per-tensor FC weights, int32 biases; softmax out
// 1/256, −128) exactly as the TFLite converter lays it out. kHybrid is the
// dynamic-range model: conv weights with ≥ 1024 elements int8 per channel,
// everything else float (the TFLite 8-bit quantization specification, tensorflow.org/lite/performance/quantization_spec).
#pragma once
#include <cstdint>
#include <string>

namespace kws::rt {

struct SyntheticModelOptions {
  enum class Kind { kFloat, kInt8, kHybrid };
  Kind kind = Kind::kFloat;
  int frames = 97, bins = 20;  // input [1, frames, bins, 1]
  int filters = 16;
  int classes = 12;
  uint64_t seed = 1;
  float sparsity = 0.0f;        // fraction of each conv kernel zeroed (smallest |w| first)
  bool float_io = false;        // kInt8 only: float input/output through QUANTIZE/DEQUANTIZE
  bool keep_dims_mean = false;  // MEAN with keep_dims (then a RESHAPE to [1, filters])
  bool pools = false;           // insert a MAX_POOL_2D 2×2 and an AVERAGE_POOL_2D 2×2 (SAME) after conv 1 and 2
  bool depthwise = false;       // conv 3 becomes DEPTHWISE_CONV_2D 3×3 (multiplier 1)
};

// The .tflite bytes.
std::string MakeSyntheticModel(const SyntheticModelOptions& o);

// Deterministic pseudo-random float features in roughly [-3, 3] (log-mel-like).
std::string SyntheticInputFloat(int64_t elements, uint64_t seed);

}  // namespace kws::rt

// The layer interface the trainer drives. Each concrete layer lives in
// layers/<name>.{h,cc} with its math as plain functions, forward and backward
// side by side (llm.c style), e.g.
//
//   // in: (N,H,W,C)  weight: (KH,KW,C,F)  out: (N,OH,OW,F)
//   void conv2d_forward(float* out, const float* in, const float* weight, const float* bias,
//                       const Conv2DShape& s);
//   void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout,
//                        const float* in, const float* weight, const Conv2DShape& s);
//
// and a thin Layer subclass that owns parameters and calls them.
// Tensors are float32 NHWC, batched; a Dense layer sees (N,1,1,C).
// Gradients accumulate with += (the trainer zeroes them each step).
//
// Using it (see src/model/model.cc for the real thing):
//   auto l = MakeLayer({{"type","conv2d"},{"name","conv2d_1"},{"filters",16},{"kernel",3},
//                       {"strides",2},{"padding","same"},{"use_bias",false}});
//   Shape out = l->OutputShape(in);          // throws UsageError("layer 'conv2d_1': ...")
//   l->Build(in, rng);                        // Keras init from a kws::Rng
//   l->SetSeed(step_seed);                    // dropout only; others ignore it
//   l->Forward(x, y, batch, /*training=*/true);
//   l->Backward(x, y, dy, dx_or_nullptr, batch);   // += into Params()[i]->grad, writes dx
// The loss is a function pair, not a layer: layers/softmax_cross_entropy.h.
// Optimizer (train/optimizer.h), LR schedules (train/schedule.h) and magnitude /
// structured pruning (train/pruning.h) work on the Param* lists.
//
// Types (one file pair each): conv2d, depthwise_conv2d, batchnorm, relu,
// average_pool2d, max_pool2d, global_average_pool, dense, dropout, and for graphs
// and the small architectures of the field: add, concat, mean (one axis), reshape,
// swish, hard_swish, subspectral_norm. Speed:
// conv2d uses gemm.h (AVX-512F for 16k channels, AVX2+FMA for 8k, chosen at run
// time; portable loops elsewhere) with implicit GEMM or Winograd (winograd.h),
// parallel over the batch with kws::ParallelFor; results are deterministic for a
// given machine and thread count. The trainer runs conv-bn-relu stacks through
// train/fused_step.h (the same math, fewer parallel phases).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/rng.h"

namespace kws {

struct Shape {
  int h = 1, w = 1, c = 1;
  size_t size() const { return size_t(h) * w * c; }
  bool operator==(const Shape&) const = default;
};

// A trainable (or buffer) tensor with its gradient and optional pruning mask.
struct Param {
  std::string name;            // "conv2d_1/kernel"
  std::vector<int> dims;       // e.g. {KH, KW, Cin, Cout}; TFLite wants OHWI, the exporter transposes
  std::vector<float> value;
  std::vector<float> grad;     // same size as value (empty for buffers)
  bool prunable = false;       // Conv/Dense kernels (TF Model Optimization, tensorflow_model_optimization/python/core/sparsity/keras/)
  std::vector<uint8_t> mask;   // empty = no mask; else 1 keep / 0 pruned
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string type() const = 0;  // "conv2d", "depthwise_conv2d", "batchnorm", "relu", ...
  std::string name;                      // unique within a model ("conv2d_1")

  // Output shape for an input shape; throws kws::UsageError for impossible
  // shapes (e.g. kernel larger than a VALID input).
  virtual Shape OutputShape(const Shape& in) const = 0;
  // Allocates parameters for this input shape and initialises them like Keras
  // (Glorot-uniform kernels, zero biases, BN gamma=1 beta=0 mean=0 var=1).
  virtual void Build(const Shape& in, Rng& rng) = 0;

  // in: (batch, in_shape) -> out: (batch, OutputShape(in_shape)).
  virtual void Forward(const float* in, float* out, int batch, bool training) = 0;
  // Given dout, accumulates parameter gradients and writes din (din may be nullptr
  // for the first layer). `in`/`out` are the tensors of the last Forward.
  virtual void Backward(const float* in, const float* out, const float* dout, float* din, int batch) = 0;

  virtual std::vector<Param*> Params() { return {}; }   // trainable
  virtual std::vector<Param*> Buffers() { return {}; }  // non-trainable state (BN moving stats)
  virtual nlohmann::json Config() const = 0;            // round-trips through MakeLayer
  Shape input_shape;                                    // set by Build

  // Seeds stochastic layers (dropout) for the next Forward. The trainer calls it
  // once per step, e.g. layer->SetSeed(Rng::Derive(run_seed, step).Next()).
  // Deterministic layers ignore it. Without a call, dropout derives a fresh
  // deterministic seed from an internal counter.
  virtual void SetSeed(uint64_t seed) {}

  // --- Graph form. The model drives every layer through these; most layers take one input and the
  // defaults forward to the one-input calls above. Layers with several inputs (add, concat) override
  // them (and min_inputs/max_inputs). Backward WRITES each din[k] (nullptr = not needed).
  virtual int min_inputs() const { return 1; }
  virtual int max_inputs() const { return 1; }
  virtual Shape OutputShapeN(const std::vector<Shape>& in) const;
  virtual void BuildN(const std::vector<Shape>& in, Rng& rng);
  virtual void ForwardN(const std::vector<const float*>& in, float* out, int batch, bool training);
  virtual void BackwardN(const std::vector<const float*>& in, const float* out, const float* dout,
                         const std::vector<float*>& din, int batch);
  std::vector<Shape> input_shapes;  // every input's shape (set by BuildN; input_shape is the first)

  // Multiply-accumulates of one example's forward pass (conv, depthwise, dense; 0 for the rest).
  virtual int64_t Macs() const { return 0; }
};

// A Sequential stack's output shape, checked layer by layer (UsageError names the layer).
Shape OutputShapeOf(const std::vector<std::unique_ptr<Layer>>& layers, Shape in);

// Factory from a config table, e.g.
//   {"type":"conv2d","filters":16,"kernel":[3,3],"strides":[2,2],"padding":"same","use_bias":false}
// Throws kws::UsageError("layer 3: unknown type 'conv3d'") etc.
std::unique_ptr<Layer> MakeLayer(const nlohmann::json& cfg);

}  // namespace kws

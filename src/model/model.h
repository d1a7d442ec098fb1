// A model: a graph of kws::Layer built from the config's layer list for an input shape
// (frames, bins, 1) and a class count. Each layer reads the previous layer's output unless it names
// its `inputs` (layer names; "input" = the model input): residual sums (add, with broadcasting),
// concatenations and branches. A layer list without `inputs` is the classic Sequential stack.
// The last listed layer is the output; every other layer must feed some layer; cycles are refused.
//
//   kws::Model m = kws::Model::Build(cfg.layers, {97, 20, 1}, /*num_classes=*/2, /*seed=*/1);
//   const float* logits = m.Forward(x, batch, /*training=*/true);   // x: (batch, 97, 20, 1)
//   float loss = m.Loss(labels, batch);                               // softmax cross-entropy
//   m.ZeroGrad(); m.Backward(batch);                                   // grads of that loss
//   m.Predict(x, batch, probs);                                        // inference, probabilities
//
// Activations of the last Forward are kept for Backward. Buffers are sized for
// the largest batch seen so far and reused (allocated once per batch size).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/layer.h"
#include "layers/softmax_cross_entropy.h"

namespace kws {

class Model {
 public:
  Model() = default;
  Model(Model&&) = default;
  Model& operator=(Model&&) = default;

  // `layers`: the config's layer list (see ResolveLayers: units of the last dense default to
  // num_classes, a trailing softmax marks the probability output). Names missing from the config
  // become "<type>_<k>" (k counts per type from 1). Throws UsageError naming the layer for unknown
  // types, bad fields, impossible shapes (e.g. shapes an add cannot broadcast), an input that names
  // no layer, a cycle, a layer whose output nothing reads, and if the output is not num_classes values.
  // Layers run (and are stored) in a topological order that keeps the listed order where it can.
  static Model Build(const nlohmann::json& layers, Shape input, int num_classes, uint64_t seed);

  Shape input_shape() const { return input_; }
  int num_classes() const { return classes_; }  // the head's classes (what Forward/Loss see)
  // Output merge (data.unknown_subclasses): the head's class k counts as output class map[k]; Predict and
  // OutputArgmax then give num_outputs() values, the sums of their classes' probabilities (as the
  // exported .tflite does). Empty = no merge: num_outputs() == num_classes().
  void SetOutputMap(std::vector<int> map);
  const std::vector<int>& output_map() const { return output_map_; }
  int num_outputs() const { return outputs_ ? outputs_ : classes_; }
  // Output class of one example's head probabilities (classes values): argmax after the merge.
  int OutputArgmax(const float* probs) const;
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  std::vector<Shape> shapes() const { return shapes_; }  // input shape, then each layer's output
  // The layers whose outputs layer i reads, in its input order (-1 = the model input).
  const std::vector<int>& inputs(size_t i) const { return inputs_.at(i); }
  std::vector<int> consumers(int i) const;  // the layers reading layer i's output (i = -1: the input)
  bool IsSequential() const;                // every layer reads the one before it
  // The resolved layer list (each layer's Config(), "inputs" where a layer does not read the one
  // listed before it, plus {"type":"softmax"} at the end).
  nlohmann::json LayersConfig() const;
  // A table of the layers: name, type, output shape, parameters (+ buffers), multiply-accumulates
  // per example, and the inputs of graph layers; then the totals.
  std::string Summary();
  int64_t Macs() const;  // per example

  // Forward pass; returns logits (batch, num_classes), valid until the next Forward.
  const float* Forward(const float* x, int batch, bool training);
  // Softmax cross-entropy of the last Forward's logits; fills probabilities. Mean over the batch.
  // Class weights and label smoothing (train.class_weights, train.label_smoothing) come from
  // SetLossOptions; the default is the plain loss.
  // `soft` (may be null): (batch, num_classes) soft targets weighted by loss_options().soft_weight
  // (distillation); kept for Backward, so it must stay valid until then.
  float Loss(const int32_t* labels, int batch, const float* soft = nullptr);
  void SetLossOptions(CrossEntropyOptions o) { loss_opts_ = std::move(o); }
  const CrossEntropyOptions& loss_options() const { return loss_opts_; }
  // Gradients of the last Loss() (accumulated into Param::grad: call ZeroGrad() first).
  void Backward(int batch);
  void ZeroGrad();
  // Probabilities of the last Forward/Loss (batch, num_classes).
  const float* probs() const { return probs_.data(); }
  // Inference-mode probabilities for `batch` inputs into probs (batch, num_outputs()).
  void Predict(const float* x, int batch, float* probs);

  std::vector<Param*> Params();   // trainable, in layer order
  std::vector<Param*> Buffers();  // non-trainable state
  long ParamCount();              // trainable + buffer values
  long NonZeroCount();            // non-zero values (trainable + buffers)
  // For in-place surgery (structured pruning's RemoveFilters); call Reshape() afterwards.
  // The graph (inputs()) does not change.
  std::vector<std::unique_ptr<Layer>>& mutable_layers() { return layers_; }
  // Recomputes the shapes after the layers changed and drops the activation buffers.
  void Reshape();
  // Calls SetSeed on every layer (dropout): derived from seed per layer index.
  void SetSeed(uint64_t seed);

 private:
  void Reserve(int batch);
  float* TakeGradBuffer();
  void GiveBackGradBuffer(float* b);
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::vector<int>> inputs_;  // per layer: producers (-1 = the model input)
  std::vector<Shape> shapes_;
  Shape input_;
  int classes_ = 0;
  int capacity_ = 0;
  const float* input_ptr_ = nullptr;
  std::vector<std::vector<float>> acts_;  // acts_[i] = output of layer i
  // Gradient buffers (batch x the largest activation): a layer's output gradient lives in one from
  // its first consumer's backward until its own; fan-out sums into it. Sequential stacks use two.
  std::vector<std::unique_ptr<std::vector<float>>> grad_pool_;
  std::vector<float*> grad_free_;
  std::vector<float> probs_, dlogits_;
  std::vector<int32_t> labels_;
  CrossEntropyOptions loss_opts_;
  const float* soft_ = nullptr;  // soft targets of the last Loss()
  std::vector<int> output_map_;
  int outputs_ = 0;
  std::vector<float> head_probs_;
};

}  // namespace kws

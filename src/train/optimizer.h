// Optimizers with tf.keras update rules (one Step per batch, after Backward).
//
// Adam (tf.keras Adam, both optimizer_v2 and the 2.11+ optimizer; checked on
// the Keras source): with t = step number starting at 1,
//   m = m + (g - m)*(1 - beta1)
//   v = v + (g^2 - v)*(1 - beta2)
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   w = w - alpha * m / (sqrt(v) + epsilon)          epsilon = 1e-7
// i.e. epsilon is added to sqrt(v) BEFORE the bias correction, which equals the
// paper's form with epsilon_hat = epsilon*sqrt(1 - beta2^t). (torch.optim.Adam
// adds eps after correcting v, so it differs slightly; see tools/torch.)
//
// SGD (tf.keras SGD with momentum; momentum 0 = plain SGD):
//   velocity = momentum*velocity - lr*g;  w = w + velocity
//   nesterov:  w = w + momentum*velocity - lr*g
//
// weight_decay (L2, coupled): g += weight_decay * w before the update, applied
// to kernels only (Param names ending in "kernel") unless decay_all_params.
// Keras kernel_regularizer=l2(l) adds l*sum(w^2) to the loss: weight_decay = 2*l.
//
// Masks: a Param with a non-empty mask (pruning) has masked entries set to 0
// after the update, so pruned weights stay exactly zero.
//
// State (m, v, velocity) is kept per Param name; if a Param's size changes
// (structured pruning) its state restarts from zero. Use Slots() to save and
// restore it with a checkpoint.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace kws {

struct OptimizerOptions {
  std::string type = "adam";   // "adam" | "sgd"
  double beta1 = 0.9;          // adam
  double beta2 = 0.999;        // adam
  double epsilon = 1e-7;       // adam (Keras default)
  double momentum = 0.0;       // sgd
  bool nesterov = false;       // sgd
  double weight_decay = 0.0;   // coupled L2: g += weight_decay*w
  bool decay_all_params = false;  // false: kernels only
  void Validate() const;          // throws UsageError("optimizer: ...")
  nlohmann::json ToJson() const;
  // Missing keys keep their defaults; unknown keys throw UsageError.
  static OptimizerOptions FromJson(const nlohmann::json& j);
};

class Optimizer {
 public:
  explicit Optimizer(const OptimizerOptions& opts);
  // One update of every param (using p->grad) with learning rate lr; increments steps().
  // Does not zero the gradients.
  void Step(const std::vector<Param*>& params, double lr);
  long steps() const { return t_; }
  void set_steps(long t) { t_ = t; }
  const OptimizerOptions& options() const { return o_; }
  // Per-param state vectors ("m", "v" for adam, "velocity" for sgd), keyed by param name.
  std::map<std::string, std::map<std::string, std::vector<float>>>& Slots() { return slots_; }

 private:
  OptimizerOptions o_;
  long t_ = 0;
  std::map<std::string, std::map<std::string, std::vector<float>>> slots_;
};

// Sets every trainable param's grad to 0 (helper for the trainer).
void ZeroGrads(const std::vector<Param*>& params);
// Multiplies each masked param by its mask (masked entries become exactly 0).
void ApplyMasks(const std::vector<Param*>& params);

struct Checkpoint;
// The optimizer's slots ("optimizer/<param>/<slot>" tensors) and step count (state["optimizer_steps"],
// state["optimizer"]) into a checkpoint, and back, for --resume.
void CaptureOptimizer(Optimizer& opt, Checkpoint& c);
void RestoreOptimizer(const Checkpoint& c, Optimizer& opt);

}  // namespace kws

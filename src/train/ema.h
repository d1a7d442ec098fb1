// Exponential moving average of a model's weights (train.ema_decay), the semantics of
// tf.train.ExponentialMovingAverage(decay, num_updates=step):
//
//   decay_t = min(decay, (1 + step) / (10 + step))
//   shadow -= (1 - decay_t) * (shadow - value)        (shadow starts as the initial value)
//
// for every trainable tensor and every buffer (BatchNorm moving statistics), after each optimizer step:
//
//   WeightAverage ema(cfg.train.ema_decay, model);
//   for (...) { ...; opt.Step(params, lr); ema.Update(step); ++step; }
//   ema.Apply();    // the model now holds the averages (pruned weights, by the current masks, are 0)
//   ...evaluate / capture...
//   ema.Restore();  // back to the live weights, bit for bit
//
// The model's tensors keep their storage (values are copied, never swapped), so code holding
// pointers into them (the fused training step) stays valid.
#pragma once
#include <string>
#include <vector>

#include "layers/layer.h"

namespace kws {

class Model;
struct Checkpoint;

class WeightAverage {
 public:
  WeightAverage(double decay, Model& model);
  void Update(long step);
  void Apply();
  void Restore();
  // Checkpoint round trip ("ema/<tensor>" tensors) for --resume.
  void Save(Checkpoint& c) const;
  void Load(const Checkpoint& c, const std::string& path);

 private:
  double decay_;
  std::vector<Param*> tensors_;
  std::vector<std::vector<float>> shadow_, live_;
  bool applied_ = false;
};

}  // namespace kws

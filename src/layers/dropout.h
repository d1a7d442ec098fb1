// Dropout (Keras Dropout), inverted scaling, active only when training.
//   training: keep[i] = (u_i >= rate), u_i ~ U[0,1) from kws::Rng;  out = in * keep / (1 - rate)
//   inference: out = in
//   din = dout * keep / (1 - rate)   (the mask of the last training Forward)
//   "spatial": true drops whole channels instead (Keras SpatialDropout2D, torch Dropout2d):
//   one keep draw per (example, channel), shared by every position.
// The mask stream is deterministic: SetSeed(seed) before a Forward makes it
// depend only on that seed; without SetSeed each Forward uses the next seed of
// an internal counter (seeded from the config's "seed").
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "layers/layer.h"

namespace kws {

// mask: n scale factors (0 or 1/(1-rate)), drawn from rng.
void dropout_make_mask(float* mask, size_t n, float rate, Rng& rng);
void dropout_forward(float* out, const float* in, const float* mask, size_t n);
void dropout_backward(float* din, const float* dout, const float* mask, size_t n);

// Config: {"type":"dropout","rate":0.2,"seed":0,"spatial":false}
class DropoutLayer : public Layer {
 public:
  double rate = 0.5;
  uint64_t seed = 0;
  bool spatial = false;
  std::string type() const override { return "dropout"; }
  Shape OutputShape(const Shape& in) const override { return in; }
  void Build(const Shape& in, Rng& rng) override { input_shape = in; }
  void Forward(const float* in, float* out, int batch, bool training) override;
  void Backward(const float* in, const float* out, const float* dout, float* din, int batch) override;
  nlohmann::json Config() const override;
  void SetSeed(uint64_t s) override { step_seed_ = s, has_step_seed_ = true; }

 private:
  std::vector<float> mask_;
  bool last_training_ = false, has_step_seed_ = false;
  uint64_t step_seed_ = 0, counter_ = 0;
};

std::unique_ptr<Layer> MakeDropoutLayer(const nlohmann::json& cfg);

}  // namespace kws

// Learning-rate schedules, a function of the optimizer step (0-based, the
// step about to be taken), with tf.keras semantics:
//   constant:     lr = initial
//   polynomial:   s = min(step, decay_steps)
//                 lr = (initial - end) * (1 - s/decay_steps)^power + end     (PolynomialDecay, cycle=False)
//   cosine:       s = min(step, decay_steps)
//                 lr = initial * ((1 - alpha) * 0.5*(1 + cos(pi*s/decay_steps)) + alpha)   (CosineDecay)
//   exponential:  lr = initial * decay_rate^(step/decay_steps)   (ExponentialDecay, staircase=false)
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace kws {

struct LrSchedule {
  std::string type = "constant";  // constant | polynomial | cosine | exponential
  double initial = 0.01;
  double end = 1e-5;              // polynomial
  long decay_steps = 1;           // polynomial, cosine, exponential
  double power = 1.0;             // polynomial (Keras default 1)
  double alpha = 0.0;             // cosine: floor as a fraction of initial
  double decay_rate = 0.96;       // exponential
  void Validate() const;          // throws UsageError("lr_schedule: ...")
  double operator()(long step) const;
  nlohmann::json ToJson() const;
  static LrSchedule FromJson(const nlohmann::json& j);  // unknown keys -> UsageError
};

}  // namespace kws
